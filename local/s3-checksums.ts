/**
 * Local mode emulating S3's documented checksum behaviour, which s3rver 3.7.1 lacks: a PUT (object
 * or part) that carries `x-amz-checksum-crc64nvme` or `x-amz-checksum-sha256` is refused with
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
import { Crc64Nvme } from '@aws-sdk/checksums/crc';

export interface ChecksumFront {
  endpoint: string;
  /** Bytes and count of UploadPart requests accepted (and forwarded) so far. */
  stats: { partBytes: number; parts: number; refused: number };
  stop(): Promise<void>;
}

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
    const crc = req.headers['x-amz-checksum-crc64nvme'];
    const sha = req.headers['x-amz-checksum-sha256'];
    const isPart = req.method === 'PUT' && /[?&]uploadId=/.test(req.url ?? '');
    if (req.method !== 'PUT' || (typeof crc !== 'string' && typeof sha !== 'string')) {
      forward(req, res, req);
      return;
    }
    const file = join(spool, `${++seq}`);
    const crcHash = new Crc64Nvme();
    const shaHash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (typeof crc === 'string') crcHash.update(chunk);
        if (typeof sha === 'string') shaHash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    pipeline(req, tap, createWriteStream(file))
      .then(async () => {
        const crcOk =
          typeof crc !== 'string' || Buffer.from(await crcHash.digest()).toString('base64') === crc;
        const shaOk = typeof sha !== 'string' || shaHash.digest('base64') === sha;
        if (!crcOk || !shaOk) {
          stats.refused++;
          rmSync(file, { force: true });
          res.writeHead(400, { 'content-type': 'application/xml' });
          res.end(
            `<?xml version="1.0" encoding="UTF-8"?><Error><Code>BadDigest</Code><Message>The ${crcOk ? 'SHA256' : 'CRC64NVME'} you specified did not match the calculated checksum.</Message></Error>`,
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
