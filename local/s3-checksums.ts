/**
 * Local mode emulating S3's documented checksum behaviour, which s3rver 3.7.1 lacks. It sits in
 * front of s3rver on loopback; requests it has nothing to add to pass straight through.
 *
 * - A PUT (object or part) that carries `x-amz-checksum-crc32`, `-crc64nvme` or `-sha256` is
 *   refused with 400 BadDigest when the body does not match, as S3 does.
 *   - An UploadPart streams to s3rver while hashed, holding back its last chunk until the digest is
 *     known: on a mismatch (or a client that goes away mid-part) the request to s3rver is cut short,
 *     so s3rver never answers it, the part file it began is deleted, and the front forgets the part.
 *     Even a truncated part file left behind cannot become an object: CompleteMultipartUpload is
 *     checked against the parts the front saw accepted (below).
 *   - An object PUT is still spooled to a temporary file first: s3rver writes an object PUT in
 *     place, so streaming a bad body would clobber the object already under that key.
 * - CompleteMultipartUpload: each listed part must be one the front accepted with that ETag (and
 *   CRC32 when the request gives one), else 400 InvalidPart. The whole object's CRC32 is combined
 *   from the parts' (no second read); a completion claiming a FULL_OBJECT `x-amz-checksum-crc32`
 *   that differs is refused with 400 BadDigest and nothing is assembled. Once assembled (by our
 *   own copy, local/s3-assemble.ts), the front reads the object back to compute its CRC32 and
 *   deletes it on a mismatch (400 BadDigest): a damaged part file or a bad copy never becomes an
 *   object; that read is also the only check when the front restarted since the parts were sent. The response carries
 *   `<ChecksumCRC32>` and `<ChecksumType>FULL_OBJECT</ChecksumType>` as S3's does.
 * - HEAD/GET with `x-amz-checksum-mode: ENABLED` (the SDK's ChecksumMode) of a whole object whose
 *   checksum the front recorded (same ETag: an object overwritten since has none) answers
 *   `x-amz-checksum-crc32`/`-sha256`/`-crc64nvme` and `x-amz-checksum-type: FULL_OBJECT`. Records
 *   live in memory: after a restart of local mode, older objects report no checksum (the service then
 *   reads and hashes them, as it does for any object without one).
 *
 * It also counts the part bytes it accepted, so tests can tell how much a resumed upload sent again.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { Crc64Nvme } from '@aws-sdk/checksums/crc';
import { crc32Combine } from '../lib/artifacts/crc32';

export interface ChecksumFront {
  endpoint: string;
  /**
   * Bytes and count of UploadPart requests accepted (and forwarded) so far, PUTs refused, the
   * seconds s3rver spent assembling completed multipart uploads and the front reading them back
   * (the bench reports both), and how many read-backs came from the store's file or over HTTP.
   */
  stats: FrontStats;
  stop(): Promise<void>;
}

export interface FrontStats {
  partBytes: number;
  parts: number;
  refused: number;
  assembleSeconds: number;
  readBackSeconds: number;
  readBacks: { file: number; http: number };
}

export interface ChecksumFrontOptions {
  /**
   * Where s3rver keeps part `n` of an upload (local/s3-local.ts knows its layout): a refused part's
   * file is deleted there. Without it the file stays, harmless (see the completion check above).
   */
  partFile?: (bucket: string, uploadId: string, partNumber: number) => string;
  /**
   * Where s3rver keeps an object's bytes: a completed multipart object is read back from there
   * (~0.7 s per GiB from the page cache the assembly just filled) rather than through s3rver's GET
   * (~5 s per GiB). Without it the front reads it back over HTTP.
   */
  objectFile?: (bucket: string, key: string) => string;
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
        digest: () => crc32Base64(value),
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

const crc32Base64 = (value: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b.toString('base64');
};

interface PartRecord {
  etag: string;
  crc32: number;
  size: number;
}
/** Checksums S3 keeps for a whole object: base64 values by header name (crc32, sha256, crc64nvme). */
interface ObjectRecord {
  etag: string;
  checksums: Record<string, string>;
}

const unquote = (etag: string | string[] | undefined) => String(etag ?? '').replace(/"/g, '');
const s3Error = (res: ServerResponse, status: number, code: string, message: string) => {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  );
};

export async function startChecksumFront(
  upstream: string,
  options: ChecksumFrontOptions = {},
): Promise<ChecksumFront> {
  const target = new URL(upstream);
  const spool = mkdtempSync(join(tmpdir(), 'buildstate-s3-spool-'));
  const stats: FrontStats = {
    partBytes: 0,
    parts: 0,
    refused: 0,
    assembleSeconds: 0,
    readBackSeconds: 0,
    readBacks: { file: 0, http: 0 },
  };
  /** uploadId → part number → what the front saw accepted. */
  const uploads = new Map<string, Map<number, PartRecord>>();
  /** "/bucket/key" (as requested, path-style) → the checksums of the object with that ETag. */
  const objects = new Map<string, ObjectRecord>();
  let seq = 0;
  /** Every request to s3rver goes through this agent, so stopping closes the front's side of them all. */
  const agent = new Agent({ keepAlive: true });

  /** Sends a request to s3rver; `body` is piped (a stream) or sent (a buffer); null sends none. */
  const send = (
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    body: NodeJS.ReadableStream | Buffer | null,
  ): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const out = request(
        { host: target.hostname, port: target.port, method, path, headers, agent },
        resolve,
      );
      out.on('error', reject);
      if (body === null) out.end();
      else if (Buffer.isBuffer(body)) out.end(body);
      else body.pipe(out);
    });
  const readAll = async (stream: NodeJS.ReadableStream) => {
    const chunks: Buffer[] = [];
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  };

  const forward = (req: IncomingMessage, res: ServerResponse, body: NodeJS.ReadableStream | null) => {
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (up) => {
        const headers = { ...up.headers };
        // A whole object read with ChecksumMode gets the checksums S3 would have kept for it.
        const recorded = objects.get(objectPathOf(req.url));
        if (
          (req.method === 'HEAD' || req.method === 'GET') &&
          String(req.headers['x-amz-checksum-mode'] ?? '').toUpperCase() === 'ENABLED' &&
          !req.headers.range &&
          up.statusCode === 200 &&
          recorded &&
          recorded.etag === unquote(up.headers.etag)
        ) {
          for (const [name, value] of Object.entries(recorded.checksums))
            headers[`x-amz-checksum-${name}`] = value;
          headers['x-amz-checksum-type'] = 'FULL_OBJECT';
        }
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    // A client gone before its answer is whole (a download killed mid-range): drop the request to
    // s3rver too, or its socket stays open holding the unread rest, and s3rver cannot stop.
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    if (body) body.pipe(out);
    else out.end();
  };

  /**
   * Whether s3rver still holds multipart upload `uploadId` (its folder with the `key` file it
   * writes at initiation). s3rver itself accepts a part for an upload that was completed or never
   * began, recreating its folder; S3 answers 404 NoSuchUpload. Unknown without the part layout.
   */
  const uploadExists = (req: IncomingMessage, uploadId: string): boolean => {
    const file = options.partFile?.(bucketOf(req.url), uploadId, 1);
    return file === undefined || existsSync(join(dirname(file), 'key'));
  };
  const noSuchUpload = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    s3Error(
      res,
      404,
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    );
  };

  /** UploadPart: streamed to s3rver, hashed on the way, the last chunk held until the digest is known. */
  const putPart = (
    req: IncomingMessage,
    res: ServerResponse,
    claims: { header: string; name: string; value: string; hash: Running }[],
  ) => {
    const url = new URL(req.url ?? '/', 'http://front');
    const uploadId = url.searchParams.get('uploadId') ?? '';
    const partNumber = Number(url.searchParams.get('partNumber'));
    if (!uploadExists(req, uploadId)) return noSuchUpload(req, res);
    const parts = uploads.get(uploadId) ?? new Map<number, PartRecord>();
    uploads.set(uploadId, parts);
    // Whatever was accepted under this number is about to be overwritten at s3rver.
    parts.delete(partNumber);
    let crc = 0;
    let size = 0;
    let held: Buffer | null = null;
    let wrong: string | null = null;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        for (const c of claims) c.hash.update(chunk);
        crc = crc32(chunk, crc);
        size += chunk.length;
        const previous = held;
        held = chunk;
        done(null, previous ?? undefined);
      },
      flush(done) {
        (async () => {
          for (const c of claims) if ((await c.hash.digest()) !== c.value) wrong ??= c.name;
        })().then(
          () => (wrong ? done(new Error('BadDigest')) : done(null, held ?? undefined)),
          (e: Error) => done(e),
        );
      },
    });
    // s3rver may answer before the body is done (an expired URL: 403) and close its side: the
    // answer is read whole and passed on once, and the client's body is still drained, so the
    // client always gets a complete response.
    let answered = false;
    let finished = false;
    const out = request(
      { host: target.hostname, port: target.port, method: 'PUT', path: req.url, headers: req.headers, agent },
      (up) => {
        answered = true;
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        const reply = () => {
          if (res.headersSent) return;
          if ((up.statusCode ?? 0) < 300 && !wrong && finished) {
            parts.set(partNumber, { etag: unquote(up.headers.etag), crc32: crc, size });
            stats.parts++;
            stats.partBytes += size;
          }
          const headers = { ...up.headers };
          delete headers['transfer-encoding'];
          const body = Buffer.concat(chunks);
          res.writeHead(up.statusCode ?? 502, { ...headers, 'content-length': String(body.length) });
          res.end(body);
        };
        up.on('end', reply);
        up.on('close', reply);
      },
    );
    const cutShort = () => {
      // A digest mismatch, or the client went away: s3rver got part of a body it will never see
      // the end of; drop the file it began, so no truncated part lingers.
      if (answered) return;
      out.destroy();
      const file = options.partFile?.(bucketOf(req.url), uploadId, partNumber);
      if (file) {
        rmSync(file, { force: true });
        rmSync(`${file}.md5`, { force: true });
      }
      if (res.headersSent) return;
      if (wrong) {
        stats.refused++;
        s3Error(res, 400, 'BadDigest', `The ${wrong} you specified did not match the calculated checksum.`);
      } else {
        res.writeHead(400);
        res.end();
      }
    };
    out.on('error', () => {
      // s3rver closed its side (after an early answer): keep draining the client's body.
      tap.unpipe(out);
      tap.resume();
    });
    tap.on('error', cutShort);
    req.on('error', cutShort);
    req.on('aborted', cutShort);
    tap.on('end', () => {
      finished = true;
    });
    req.pipe(tap).pipe(out);
  };

  /** CompleteMultipartUpload: parts and the FULL_OBJECT CRC32 checked as S3 does, then assembled by s3rver. */
  const complete = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readAll(req);
    const uploadId = new URL(req.url ?? '/', 'http://front').searchParams.get('uploadId') ?? '';
    // Completed already (or aborted): S3's answer, which the completion job takes as "check the
    // object". s3rver would fail reading the upload's key file, a 500 the job retries for ever.
    if (!uploadExists(req, uploadId)) return noSuchUpload(req, res);
    const known = uploads.get(uploadId) ?? new Map<number, PartRecord>();
    const listed = [...body.toString('utf8').matchAll(/<Part>([\s\S]*?)<\/Part>/g)].map((m) => ({
      number: Number(/<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1]!)?.[1]),
      etag: unquote(/<ETag>([\s\S]*?)<\/ETag>/.exec(m[1]!)?.[1]?.replace(/&quot;/g, '"')),
      crc32: /<ChecksumCRC32>([^<]*)<\/ChecksumCRC32>/.exec(m[1]!)?.[1],
    }));
    listed.sort((a, b) => a.number - b.number);
    let allKnown = listed.length > 0;
    let whole = 0;
    for (const p of listed) {
      const r = known.get(p.number);
      if (!r) {
        allKnown = false;
        // A part s3rver does not hold (never sent, or refused and deleted) is S3's InvalidPart.
        const file = options.partFile?.(bucketOf(req.url), uploadId, p.number);
        if (file && !existsSync(file))
          return s3Error(res, 400, 'InvalidPart', `Part ${p.number} of this upload could not be found.`);
        continue;
      }
      if (r.etag !== p.etag || (p.crc32 !== undefined && p.crc32 !== crc32Base64(r.crc32)))
        return s3Error(
          res,
          400,
          'InvalidPart',
          `One or more of the specified parts could not be found or the specified entity tag or checksum did not match (part ${p.number}).`,
        );
      whole = crc32Combine(whole, r.crc32, r.size);
    }
    const claimed = req.headers['x-amz-checksum-crc32'];
    const fullObject =
      String(req.headers['x-amz-checksum-type'] ?? 'FULL_OBJECT').toUpperCase() === 'FULL_OBJECT';
    const badDigest = () =>
      s3Error(
        res,
        400,
        'BadDigest',
        'The CRC32 you specified for the full object did not match the calculated checksum.',
      );
    if (allKnown && typeof claimed === 'string' && fullObject && claimed !== crc32Base64(whole))
      return badDigest();

    const started = process.hrtime.bigint();
    const up = await send(
      'POST',
      req.url ?? '/',
      { ...req.headers, 'content-length': String(body.length) },
      body,
    );
    const answer = await readAll(up);
    stats.assembleSeconds += Number(process.hrtime.bigint() - started) / 1e9;
    let text = answer.toString('utf8');
    const etag = unquote(/<ETag>([\s\S]*?)<\/ETag>/.exec(text)?.[1]?.replace(/&quot;/g, '"'));
    if ((up.statusCode ?? 0) < 300 && etag) {
      uploads.delete(uploadId);
      const key = objectPathOf(req.url);
      // s3rver checks who asks, not the signature: the completion's own credentials do.
      const auth: IncomingHttpHeaders = {};
      for (const h of ['host', 'authorization', 'x-amz-date', 'x-amz-security-token'])
        if (req.headers[h]) auth[h] = req.headers[h];
      // s3rver wants the header SigV4 requires; a GET or DELETE sends no payload to sign.
      auth['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      {
        // The assembly is local mode's own code (local/s3-assemble.ts) over part files on disk:
        // read the object back and check its CRC32, so a bad copy or a damaged part file cannot
        // become a verified object (~0.4 s per GiB). Also the only check when some part was sent
        // before this front started.
        // A key whose file the mapping misses (it never should) is read through s3rver instead.
        const mapped = options.objectFile?.(bucketOf(req.url), keyOf(req.url));
        const file = mapped && existsSync(mapped) ? mapped : undefined;
        const got = file
          ? createReadStream(file, { highWaterMark: 1024 * 1024 })
          : await send('GET', key, auth, null);
        if (!file && (got as IncomingMessage).statusCode !== 200)
          throw new Error(`reading back ${key}: s3rver answered ${(got as IncomingMessage).statusCode}`);
        const reading = process.hrtime.bigint();
        let value = 0;
        for await (const c of got as AsyncIterable<Buffer>) value = crc32(c, value);
        whole = value;
        stats.readBackSeconds += Number(process.hrtime.bigint() - reading) / 1e9;
        stats.readBacks[file ? 'file' : 'http'] += 1;
        if (typeof claimed === 'string' && fullObject && claimed !== crc32Base64(whole)) {
          (await send('DELETE', key, auth, null)).resume();
          objects.delete(key);
          return badDigest();
        }
      }
      if (typeof claimed === 'string' && fullObject) {
        objects.set(key, { etag, checksums: { crc32: crc32Base64(whole) } });
        text = text.replace(
          /<\/CompleteMultipartUploadResult>/,
          `<ChecksumCRC32>${crc32Base64(whole)}</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType></CompleteMultipartUploadResult>`,
        );
      } else objects.delete(key);
    }
    const headers = { ...up.headers };
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    res.writeHead(up.statusCode ?? 502, { ...headers, 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };

  /** An object PUT with checksum headers: spooled while hashed, forwarded only when it matches. */
  const putObject = (
    req: IncomingMessage,
    res: ServerResponse,
    claims: { header: string; name: string; value: string; hash: Running }[],
  ) => {
    const file = join(spool, `${++seq}`);
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        for (const c of claims) c.hash.update(chunk);
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
          s3Error(res, 400, 'BadDigest', `The ${wrong} you specified did not match the calculated checksum.`);
          return;
        }
        const body = createReadStream(file);
        body.on('close', () => rmSync(file, { force: true }));
        const key = objectPathOf(req.url);
        const up = await send('PUT', req.url ?? '/', req.headers, body);
        if ((up.statusCode ?? 0) < 300)
          objects.set(key, {
            etag: unquote(up.headers.etag),
            checksums: Object.fromEntries(claims.map((c) => [c.header, c.value])),
          });
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      })
      .catch(() => {
        rmSync(file, { force: true });
        if (!res.headersSent) res.writeHead(400);
        res.end();
      });
  };

  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const isUpload = /[?&]uploadId=/.test(url);
    if (req.method === 'POST' && isUpload) {
      complete(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      return;
    }
    if (
      req.method === 'PUT' &&
      isUpload &&
      /[?&]partNumber=/.test(url) &&
      !req.headers['x-amz-copy-source']
    ) {
      const claims = CHECKS.flatMap((c) => {
        const value = req.headers[`x-amz-checksum-${c.header}`];
        return typeof value === 'string' ? [{ ...c, value, hash: c.start() }] : [];
      });
      putPart(req, res, claims);
      return;
    }
    if (req.method === 'DELETE' && isUpload) {
      // AbortMultipartUpload (s3rver lacks it, but its parts are no longer the front's to vouch for).
      uploads.delete(new URL(url, 'http://front').searchParams.get('uploadId') ?? '');
    } else if (req.method === 'PUT' || req.method === 'DELETE') {
      // The object under this key changes: what was recorded for the old one no longer holds
      // (a record is also pinned to its ETag, so an overwrite that slips past is still caught).
      const key = objectPathOf(url);
      const claims = CHECKS.flatMap((c) => {
        const value = req.headers[`x-amz-checksum-${c.header}`];
        return typeof value === 'string' ? [{ ...c, value, hash: c.start() }] : [];
      });
      if (req.method === 'PUT' && claims.length > 0 && !req.headers['x-amz-copy-source']) {
        putObject(req, res, claims);
        return;
      }
      objects.delete(key);
    }
    forward(req, res, req);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
      rmSync(spool, { recursive: true, force: true });
    },
  };
}

/** "/bucket/key" of a path-style request URL, without its query. */
const objectPathOf = (url: string | undefined) => (url ?? '/').split('?')[0]!;
const bucketOf = (url: string | undefined) => decodeURIComponent(objectPathOf(url).split('/')[1] ?? '');
/** The object key of a path-style URL, decoded as s3rver decodes it. */
const keyOf = (url: string | undefined) =>
  decodeURIComponent(objectPathOf(url).split('/').slice(2).join('/'));
