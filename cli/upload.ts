/**
 * Multipart upload of a managed artifact (docs/ARTIFACTS.md "Large artifacts"). One sequential
 * read computes the file's SHA-256 (the artifact's checksum), its CRC32 and every part's CRC32
 * (node's native zlib.crc32); parts are then sent in parallel from file ranges, each to a presigned
 * URL binding its CRC32 (S3 refuses a corrupted part) and re-hashed on the way (a file changed since the first
 * read is refused and the upload is never completed). Parts S3 accepted are confirmed to the
 * service, so a re-run of the same file sends only the others. Memory stays at a few read buffers
 * per parallel part whatever the file size.
 */
import { createHash } from 'node:crypto';
import { type BigIntStats, createReadStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { crc32Combine } from '../lib/artifacts/crc32';
import {
  DEFAULT_PART_SIZE,
  MAX_PART_SIZE,
  MIN_PART_SIZE,
  type PartPlan,
  parseByteSize,
  partRange,
  planParts,
} from '../lib/artifacts/upload-plan';
import { ApiError, type Client } from './client';
import { CliError, EXIT } from './errors';
import { openRequest } from './http';
import { timingMark, timingStart } from './timings';
import { DEFAULT_UPLOAD_PARALLEL } from './transfer-defaults';

/**
 * Where an upload is, for what an interruption says: the read pass, parts being sent (and how many
 * the service has confirmed), or the completion the service runs.
 */
export interface UploadTracker {
  stage: 'starting' | 'single' | 'reading' | 'sending' | 'completing';
  storedParts: number;
  /** Parts sent whose confirmation to the service has no answer yet: they may be stored too. */
  confirmingParts?: number;
  partCount: number;
}

/** What is kept of an upload interrupted where `t` says, and how to go on. */
export function keptOfUpload(t: UploadTracker): string {
  switch (t.stage) {
    case 'starting':
    case 'reading':
      return 'nothing was sent yet; run the same command again to upload it';
    case 'single':
      return 'the file goes in one request (it is not above the part size) and that request did not finish; run the same command again to upload it';
    case 'sending':
      return `${t.storedParts} of ${t.partCount} parts are stored${t.confirmingParts ? ` (${t.confirmingParts} more may be: their confirmation had no answer yet)` : ''}; run the same command again to continue`;
    case 'completing':
      return `all ${t.partCount} parts are stored and the service is completing the upload without bldst; run the same command again to wait for it`;
  }
}

export interface MultipartOptions {
  name: string;
  format?: string;
  /** Requested part size in bytes (grown to stay within 10,000 parts). */
  partSize?: number;
  /** Parts in flight at once (default DEFAULT_UPLOAD_PARALLEL). */
  parallel?: number;
  /**
   * Bytes confirmed so far (parts skipped on resume included) of the total; `storedBefore` is
   * what an earlier run had stored (so a rate counts only this run's bytes).
   */
  onProgress?: (doneBytes: number, totalBytes: number, storedBefore: number) => void;
  /** Bytes of the read pass hashed so far (it reads the whole file before the first part goes). */
  onReading?: (readBytes: number, totalBytes: number) => void;
  /** Notes for stderr ("resuming upload …"); leave out for none (-q). */
  log?: (line: string) => void;
  /** Part URLs asked for per call (default 32). */
  urlBatch?: number;
  /** Kept up to date with the upload's stage and its confirmed parts (what Ctrl-C says). */
  tracker?: UploadTracker;
  /** Tries per part on network faults and 5xx answers (default 5). */
  tries?: number;
  /** A part request with no byte sent or received for this long is dropped and tried again (default 120 s). */
  idleTimeoutMs?: number;
}

/** Refused because the file is no longer what the read pass hashed; the upload stays open (exit 3). */
const fileChanged = (detail: string) =>
  new CliError(
    `file changed during upload (${detail}); nothing was completed — upload it again once it stays the same`,
    EXIT.conflict,
    'file_changed',
  );

/** What the read pass saw; compared again before completion. */
const identity = (path: string): BigIntStats | null => {
  try {
    return statSync(path, { bigint: true });
  } catch {
    return null;
  }
};

/** Why `now` is not the file `read` was, or null when it is the same (size, mtime, inode). */
function differs(read: BigIntStats, now: BigIntStats | null): string | null {
  if (!now) return 'it is gone';
  if (now.ino !== read.ino || now.dev !== read.dev) return 'it was replaced by another file';
  if (now.size !== read.size) return `it is now ${now.size} bytes, ${read.size} were read`;
  if (now.mtimeNs !== read.mtimeNs) return 'it was modified after it was read';
  return null;
}

export interface FileSums {
  size: number;
  /** `sha256:<hex>` */
  checksum: string;
  /** Base64 CRC32 of the whole file. */
  crc32: string;
  /** Base64 CRC32 of each part, index 0 = part 1. */
  parts: string[];
}

/** A CRC32 as S3 headers carry it: the 4 bytes big-endian, in base64. */
export const crc32Base64 = (value: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b.toString('base64');
};

/**
 * The one sequential read: SHA-256 and each part's CRC32 (a running value restarted at each part
 * boundary); the whole file's CRC32 is combined from the parts' (cli/crc32.ts) rather than run
 * over every byte a second time.
 */
export async function fileSums(
  path: string,
  plan: PartPlan,
  size: number,
  onRead?: (readBytes: number, totalBytes: number) => void,
): Promise<FileSums> {
  const sha = createHash('sha256');
  const parts: string[] = [];
  let whole = 0;
  let part = 0;
  let inPart = 0;
  let read = 0;
  const endPart = () => {
    parts.push(crc32Base64(part));
    whole = crc32Combine(whole, part, inPart);
    part = 0;
    inPart = 0;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    sha.update(chunk);
    read += chunk.length;
    onRead?.(read, size);
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(chunk.length - at, plan.partSize - inPart);
      part = crc32(chunk.subarray(at, at + take), part);
      inPart += take;
      at += take;
      if (inPart === plan.partSize) endPart();
    }
  }
  if (inPart > 0 || parts.length === 0) endPart();
  return { size, checksum: `sha256:${sha.digest('hex')}`, crc32: crc32Base64(whole), parts };
}

interface UploadView {
  upload_id: string;
  part_size: number;
  part_count: number;
  confirmed_parts: number[];
  resumed: boolean;
}

interface PartUrl {
  part_number: number;
  size_bytes: number;
  url: string;
  headers: Record<string, string>;
  expires_at: string;
}

const seg = encodeURIComponent;

/** A part the store refused because its URL expired: ask for a fresh one and send again. */
class UrlExpired extends Error {}
/** A network fault or a 5xx: worth another try after a pause. */
class Transient extends Error {}

/**
 * Uploads `path` as a multipart upload of artifact `opts.name` and returns the verified artifact.
 * Resumes the open upload of the same file when there is one.
 */
export async function uploadMultipart<ArtifactView = unknown>(
  client: Client,
  buildId: string,
  state: number,
  path: string,
  size: number,
  opts: MultipartOptions,
): Promise<ArtifactView> {
  timingStart();
  const plan = planParts(size, opts.partSize ?? DEFAULT_PART_SIZE);
  const tracker = opts.tracker ?? { stage: 'reading', storedParts: 0, partCount: plan.partCount };
  Object.assign(tracker, { stage: 'reading', storedParts: 0, partCount: plan.partCount });
  const sums = await fileSums(path, plan, size, opts.onReading);
  timingMark('read');
  // The file as the read pass hashed it: it must still be exactly this when completion is asked.
  const read = identity(path);
  if (!read || sums.size !== Number(read.size))
    throw new CliError(
      `${path} changed while it was read; upload it once it is complete`,
      EXIT.usage,
      'file_changed',
    );
  const base = `/builds/${seg(buildId)}/states/${state}/artifacts/${seg(opts.name)}/uploads`;
  const upload = await client.post<UploadView>(base, {
    size_bytes: size,
    checksum: sums.checksum,
    crc32: sums.crc32,
    part_size: plan.partSize,
    ...(opts.format ? { format: opts.format } : {}),
  });
  const at = `${base}/${seg(upload.upload_id)}`;
  timingMark('create');
  const confirmed = new Set(upload.confirmed_parts);
  const pending: number[] = [];
  for (let n = 1; n <= plan.partCount; n++) if (!confirmed.has(n)) pending.push(n);
  let done = 0;
  for (const n of confirmed) {
    const r = partRange(size, plan, n);
    done += r.end - r.start;
  }
  const storedBefore = done;
  Object.assign(tracker, { stage: 'sending', storedParts: confirmed.size });
  if (upload.resumed)
    opts.log?.(
      `resuming upload ${upload.upload_id}: ${confirmed.size} of ${plan.partCount} parts already stored`,
    );
  opts.onProgress?.(done, size, storedBefore);

  // Part URLs, asked for in batches of the next pending parts; an expired one is dropped and asked again.
  const urls = new Map<number, PartUrl>();
  const batch = opts.urlBatch ?? 32;
  let fetching: Promise<void> | null = null;
  const urlFor = async (n: number): Promise<PartUrl> => {
    for (;;) {
      const have = urls.get(n);
      if (have) return have;
      if (!fetching) {
        const want = [n, ...pending.filter((p) => p !== n && !urls.has(p))].slice(0, batch);
        fetching = client
          .post<{ urls: PartUrl[] }>(`${at}/urls`, {
            parts: want.map((p) => ({ part_number: p, crc32: sums.parts[p - 1]! })),
          })
          .then((res) => {
            for (const u of res.urls) urls.set(u.part_number, u);
          })
          .finally(() => {
            fetching = null;
          });
      }
      await fetching;
    }
  };

  let failed: unknown = null;
  const tries = opts.tries ?? 5;
  const sendOne = async (n: number) => {
    for (let attempt = 1; ; attempt++) {
      const url = await urlFor(n);
      try {
        const etag = await putPart(
          path,
          partRange(size, plan, n),
          url,
          sums.parts[n - 1]!,
          opts.idleTimeoutMs ?? 120_000,
        );
        tracker.confirmingParts = (tracker.confirmingParts ?? 0) + 1;
        try {
          await client.post(`${at}/parts`, {
            parts: [{ part_number: n, etag, crc32: sums.parts[n - 1]! }],
          });
        } finally {
          tracker.confirmingParts--;
        }
        done += url.size_bytes;
        tracker.storedParts++;
        opts.onProgress?.(done, size, storedBefore);
        return;
      } catch (error) {
        if (error instanceof UrlExpired) {
          urls.delete(n);
          continue;
        }
        if (!(error instanceof Transient) || attempt >= tries) throw error;
        await new Promise((r) => setTimeout(r, Math.min(8000, 250 * 2 ** attempt)));
      }
    }
  };
  const queue = [...pending];
  const worker = async () => {
    while (!failed && queue.length) {
      const n = queue.shift()!;
      try {
        await sendOne(n);
        pending.splice(pending.indexOf(n), 1);
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallel ?? DEFAULT_UPLOAD_PARALLEL) }, worker));
  if (failed) {
    if (failed instanceof Transient)
      throw new CliError(
        `upload of ${opts.name} failed after ${tries} tries: ${failed.message}; run the same command again to continue`,
        EXIT.server,
        'upload_failed',
      );
    throw failed;
  }
  timingMark('transfer');
  // Every part matched its first-read CRC32, but bytes appended (or a rewrite of parts already
  // stored by an earlier run) would go unseen: the file must still be the one that was read.
  const why = differs(read, identity(path));
  if (why) throw fileChanged(why);
  tracker.stage = 'completing';
  return waitForCompletion<ArtifactView>(client, at, opts.name, opts.log);
}

/** The upload record as the completion (202) and its poll answer it. */
interface UploadRecord {
  upload_id: string;
  part_count: number;
  status: 'open' | 'completing' | 'verified' | 'failed' | 'aborted';
  reason?: { code: string; message: string };
}

const isUploadRecord = (body: unknown): body is UploadRecord =>
  typeof body === 'object' && body !== null && 'upload_id' in body && 'part_count' in body;

/**
 * Asks for the completion (202: a job of the service assembles and verifies the upload) and polls
 * the upload (every 0.5 s for the first 10 s, then 1 s doubling to 8 s) until it is verified or failed, for as long as it
 * takes: tens of GB take minutes. Faults while polling (a 5xx, a lost connection) are polled
 * through. Interrupted (Ctrl-C), the service finishes the completion anyway; the same command
 * run again finds the upload completing or verified and waits or answers at once.
 */
async function waitForCompletion<ArtifactView>(
  client: Client,
  at: string,
  name: string,
  log?: (line: string) => void,
): Promise<ArtifactView> {
  // An outage is said once when it starts and once when it ends, not on every poll.
  let silent = false;
  const fail = (u: UploadRecord): never => {
    throw new CliError(
      `upload of ${name} failed: ${u.reason?.message ?? `the upload is ${u.status}`}${u.status === 'failed' ? '; nothing was verified — run the same command again to upload it anew' : ''}`,
      u.reason?.code === 'checksum_mismatch' ? EXIT.conflict : EXIT.server,
      u.status === 'failed' ? 'upload_failed' : 'upload_aborted',
    );
  };
  const ask = async (): Promise<ArtifactView | UploadRecord> => {
    try {
      return await client.post<ArtifactView | UploadRecord>(`${at}/complete`, undefined);
    } catch (error) {
      const details =
        error instanceof ApiError
          ? (error.body.error?.details as { status?: string; reason?: UploadRecord['reason'] } | undefined)
          : undefined;
      if (details?.status === 'failed')
        fail({ upload_id: '', part_count: 0, status: 'failed', reason: details.reason });
      throw error;
    }
  };
  let answer = await ask();
  for (let round = 0; isUploadRecord(answer); round++) {
    if (answer.status === 'failed' || answer.status === 'aborted') fail(answer);
    if (answer.status === 'verified') {
      answer = await ask();
      continue;
    }
    // Most jobs end within seconds (1 GiB: ~4 s locally): ask often at first, then back off.
    await new Promise((r) =>
      setTimeout(r, round < 20 ? 500 : Math.min(8000, 1000 * 2 ** Math.min(round - 20, 3))),
    );
    try {
      answer = await client.get<UploadRecord>(at);
    } catch (error) {
      // The client retried already; keep polling through an outage or a lost connection. A refusal
      // (the upload replaced by another run's: 409; a login gone: 401) ends the wait.
      if (error instanceof ApiError ? error.status >= 500 : error instanceof CliError) {
        if (!silent)
          log?.(
            `the service is not answering (${(error as Error).message}); bldst keeps waiting for the completion of ${name} (Ctrl-C leaves it to the service)`,
          );
        silent = true;
        continue;
      }
      throw error;
    }
    if (silent) log?.(`the service answers again; waiting for the completion of ${name}`);
    silent = false;
  }
  return answer;
}

/**
 * PUTs one part from its file range, hashing what is sent; resolves with the ETag S3 gave it.
 * A read that ends short of the range (the file was truncated) ends the request at once: the
 * store would otherwise wait for the bytes its Content-Length promised. No byte either way for
 * `idleMs` drops the request as a network fault.
 * Throws UrlExpired (ask for a new URL), Transient (retry), or a CliError (give up).
 */
function putPart(
  path: string,
  range: { start: number; end: number },
  url: PartUrl,
  expectedCrc: string,
  idleMs: number,
): Promise<string> {
  const length = range.end - range.start;
  let crc = 0;
  let hashed = 0;
  const changed = () => fileChanged(`part ${url.part_number} differs from the first read`);
  return new Promise<string>((resolve, reject) => {
    const cut = (detail: string) => {
      const error = fileChanged(`part ${url.part_number}: ${detail}`);
      reject(error);
      req.destroy();
      return error;
    };
    const tap = new Transform({
      transform(chunk: Buffer, _enc, next) {
        crc = crc32(chunk, crc);
        hashed += chunk.length;
        if (hashed > length) return next(cut(`more than its ${length} bytes were read`));
        next(null, chunk);
      },
      flush(next) {
        if (hashed < length) return next(cut(`the file ended after ${hashed} of its ${length} bytes`));
        next();
      },
    });
    const req = openRequest(
      new URL(url.url),
      { method: 'PUT', headers: { ...url.headers, 'content-length': String(length) } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < 4096) body += c;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          // Only a whole part tells: a store may answer (an expired URL) before reading the body.
          if (hashed === length && crc32Base64(crc) !== expectedCrc) return reject(changed());
          if (status >= 200 && status < 300) return resolve(String(res.headers.etag ?? ''));
          if (status === 403 && /expired/i.test(body)) return reject(new UrlExpired(body));
          if (status >= 500 || status === 408 || status === 429)
            return reject(new Transient(`HTTP ${status} on part ${url.part_number}`));
          reject(
            new CliError(
              `part ${url.part_number} refused: HTTP ${status} ${body.replace(/\s+/g, ' ').slice(0, 300)}`,
              EXIT.server,
              'upload_failed',
            ),
          );
        });
        res.on('error', (e) => reject(new Transient(e.message)));
      },
    );
    req.setTimeout(idleMs, () =>
      req.destroy(new Error(`no byte sent or received for ${Math.round(idleMs / 1000)} s`)),
    );
    req.on('error', (e) => reject(new Transient(`part ${url.part_number}: ${e.message}`)));
    pipeline(createReadStream(path, { start: range.start, end: range.end - 1 }), tap, req).catch((e: Error) =>
      reject(new Transient(`part ${url.part_number}: ${e.message}`)),
    );
  });
}

/**
 * A count of parts or ranges at once (`--parallel` of artifact upload, download and run,
 * `--transfer-parallel` of pipeline run): a whole number from 1 to 64, else exit 2 with one wording.
 */
export function parallelOption(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 64)
    throw new CliError(`${flag} ${value}: must be a whole number from 1 to 64`, EXIT.usage, 'usage');
  return n;
}

/** `--part-size` (8MiB, 64MiB, 1GiB or bytes; 5 MiB..5 GiB) and `--parallel` (1..64); exit 2 otherwise. */
export function transferOptions(partSize: string | undefined, parallel: string | undefined) {
  const out: { partSize?: number; parallel?: number } = {};
  if (partSize !== undefined) {
    const bytes = parseByteSize(partSize);
    if (bytes === null || bytes < MIN_PART_SIZE || bytes > MAX_PART_SIZE)
      throw new CliError(
        `--part-size ${partSize}: must be between 5MiB and 5GiB (e.g. 8MiB, 64MiB, 1GiB, or bytes)`,
        EXIT.usage,
        'usage',
      );
    out.partSize = bytes;
  }
  if (parallel !== undefined) out.parallel = parallelOption(parallel, '--parallel');
  return out;
}
