/** Streaming file transfers for artifacts: hash while reading, never load an image into memory. */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, EXIT } from './errors';
import { openRequest } from './http';

/**
 * The sha256 and size of a local file. A file that is missing, a folder or unreadable is the
 * caller's mistake, said with its path as exit 2 (not 6, which means the server or network).
 */
export async function fileDigest(path: string): Promise<{ checksum: string; size: number }> {
  const hash = createHash('sha256');
  try {
    if (statSync(path).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    await pipeline(createReadStream(path), hash);
    return { checksum: `sha256:${hash.digest('hex')}`, size: statSync(path).size };
  } catch (error) {
    return unreadable(path, error);
  }
}

/** The size of a readable regular file; the same exit-2 messages as fileDigest otherwise. */
export function readableFileSize(path: string): number {
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    closeSync(openSync(path, 'r'));
    return st.size;
  } catch (error) {
    return unreadable(path, error);
  }
}

function unreadable(path: string, error: unknown): never {
  const e = error as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    ENOENT: 'no such file',
    EISDIR: 'is a directory, not a file',
    EACCES: 'permission denied',
  };
  if (e.code && why[e.code]) throw new CliError(`cannot read ${path}: ${why[e.code]}`, EXIT.usage, 'usage');
  throw error;
}

/** Copies a file (e.g. from an NFS mount) to `path`, hashing on the way; never all in memory. */
export async function copyFileHashed(
  source: string,
  path: string,
): Promise<{ checksum: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(source), tap, createWriteStream(path));
  } catch (error) {
    throw new CliError(`cannot read ${source}: ${(error as Error).message}`, EXIT.usage, 'external_artifact');
  }
  return { checksum: `sha256:${hash.digest('hex')}`, size };
}

/** PUT a file to a presigned URL with exactly the signed headers. */
export function uploadFile(url: string, headers: Record<string, string>, path: string): Promise<void> {
  const size = statSync(path).size;
  return new Promise((resolve, reject) => {
    const req = openRequest(
      new URL(url),
      { method: 'PUT', headers: { ...headers, 'content-length': String(size) } },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () =>
          res.statusCode && res.statusCode < 300
            ? resolve()
            : reject(
                new CliError(
                  `upload failed: HTTP ${res.statusCode} ${body.slice(0, 200)}`,
                  EXIT.server,
                  'upload_failed',
                ),
              ),
        );
      },
    );
    req.on('error', (e) => reject(new CliError(`upload failed: ${e.message}`, EXIT.server, 'network')));
    createReadStream(path).on('error', reject).pipe(req);
  });
}
