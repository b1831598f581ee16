/**
 * Local mode emulating S3's documented checksum behaviour, which s3rver 3.7.1 lacks: a PUT (object
 * or part) that carries `x-amz-checksum-crc32`, `-crc64nvme` or `-sha256` is refused with
 * 400 BadDigest when the body does not match, and nothing is stored. It sits in front of s3rver on
 * loopback: such bodies are spooled to a temporary file while hashed (memory stays bounded), then
 * forwarded; every other request passes straight through. It also counts the part bytes it
 * accepted, so tests can tell how much a resumed upload sent again.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { Crc64Nvme } from '@aws-sdk/checksums/crc';

export interface ChecksumFront {
  endpoint: string;
  /** Bytes and count of UploadPart requests accepted (and forwarded) so far. */
  stats: { partBytes: number; parts: number; refused: number };
  stop(): Promise<void>;
}

/** A running checksum whose digest is base64, as the `x-amz-checksum-*` headers carry it. */
interface Running {
  update(chunk: Buffer): void;
  digest(): Promise<string> | string;
}

/** The checksum headers S3 checks a PUT body against (and the front does too). */
const CHECKS: { header: string; name: string; start: () => Running }[] = [
  {
    header: 'crc32',
    name: 'CRC32',
    start: () => {
      let value = 0;
      return {
        update: (chunk) => {
          value = crc32(chunk, value);
        },
        digest: () => {
          const b = Buffer.alloc(4);
          b.writeUInt32BE(value >>> 0);
          return b.toString('base64');
        },
      };
    },
  },
  {
    header: 'crc64nvme',
    name: 'CRC64NVME',
    start: () => {
      const c = new Crc64Nvme();
      return {
        update: (chunk) => c.update(chunk),
        digest: async () => Buffer.from(await c.digest()).toString('base64'),
      };
    },
  },
  {
    header: 'sha256',
    name: 'SHA256',
    start: () => {
      const h = createHash('sha256');
      return { update: (chunk) => h.update(chunk), digest: () => h.digest('base64') };
    },
  },
];

export async function startChecksumFront(upstream: string): Promise<ChecksumFront> {
  const target = new URL(upstream);
  const spool = mkdtempSync(join(tmpdir(), 'buildstate-s3-spool-'));
  const stats = { partBytes: 0, parts: 0, refused: 0 };
  let seq = 0;

  const forward = (req: IncomingMessage, res: ServerResponse, body: NodeJS.ReadableStream | null) => {
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    if (body) body.pipe(out);
    else out.end();
  };

  const server: Server = createServer((req, res) => {
    const claims = CHECKS.flatMap((c) => {
      const value = req.headers[`x-amz-checksum-${c.header}`];
      return typeof value === 'string' ? [{ ...c, value, hash: c.start() }] : [];
    });
    const isPart = req.method === 'PUT' && /[?&]uploadId=/.test(req.url ?? '');
    if (req.method !== 'PUT' || claims.length === 0) {
      forward(req, res, req);
      return;
    }
    const file = join(spool, `${++seq}`);
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        for (const c of claims) c.hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    pipeline(req, tap, createWriteStream(file))
      .then(async () => {
        let wrong: string | null = null;
        for (const c of claims) if ((await c.hash.digest()) !== c.value) wrong ??= c.name;
        if (wrong) {
          stats.refused++;
          rmSync(file, { force: true });
          res.writeHead(400, { 'content-type': 'application/xml' });
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?><Error><Code>BadDigest</Code><Message>The ${wrong} you specified did not match the calculated checksum.</Message></Error>`,
          );
          return;
        }
        const body = createReadStream(file);
        body.on('close', () => rmSync(file, { force: true }));
        res.on('finish', () => {
          if (isPart && res.statusCode < 300) {
            stats.parts++;
            stats.partBytes += size;
          }
        });
        forward(req, res, body);
      })
      .catch(() => {
        rmSync(file, { force: true });
        if (!res.headersSent) res.writeHead(400);
        res.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(spool, { recursive: true, force: true });
    },
  };
}
