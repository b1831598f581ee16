/**
 * Resumable, parallel downloads of a presigned URL, checked against a recorded SHA-256 before the
 * file gets its name.
 *
 * - Bytes go to `.<name>.bldst-partial` beside the destination, in ranges (16 MiB by default)
 *   fetched by `parallel` ranged GETs at once, each streamed to its file position (no range is
 *   ever held in memory).
 * - `.<name>.bldst-partial.json` records the artifact (checksum, size, range size) and the ranges
 *   written and flushed to disk. A re-run keeps those and fetches only the rest; a sidecar for
 *   another checksum, size or range size means the partial bytes are thrown away.
 * - The SHA-256 runs in one pass in file order: ranges land out of order, so each time the
 *   contiguous prefix grows, the newly contiguous ranges are read back from the partial file
 *   (just written: the page cache) into the hash.
 * - Only a matching SHA-256 renames the partial file to the final name. A mismatch leaves the
 *   bytes under the partial name, forgets its ranges (a re-run starts over) and says so.
 * - One download per destination: `.<name>.bldst-partial.lock` (created exclusively, holding
 *   pid and host) is taken before the partial file is touched and released on exit, Ctrl-C
 *   included. A second download to the same destination refuses at once (exit 3) instead of
 *   writing into the first one's partial file; a lock whose process is gone is taken over.
 * - A range GET answered 403 (an expired presigned URL) asks the service for a fresh URL
 *   (`renewUrl`) and fetches that range again; bounded, and S3's XML is summarised, never printed.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  accessSync,
  constants,
  createReadStream,
  createWriteStream,
  existsSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { link, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, EXIT } from './errors';
import { openRequest } from './http';
import { formatBytes, type Progress } from './progress';
import { timingMark, timingNote, timingStart } from './timings';
import { DEFAULT_DOWNLOAD_PARALLEL } from './transfer-defaults';

export const DEFAULT_PARALLEL = DEFAULT_DOWNLOAD_PARALLEL;
/**
 * 16 MiB: the ranges of the last wave land together and the SHA-256 (in file order) can only take
 * them then, so up to parallel − 1 ranges are hashed after the last byte arrived; at 64 MiB that
 * was 448 MiB, about as long as the transfer of a 1 GiB file's last wave (bench:artifacts).
 * aws s3 cp uses 8 MiB.
 */
export const DEFAULT_RANGE_BYTES = 16 * 1024 * 1024;
const ATTEMPTS = 4;

/** What a download keeps on disk (ranges recorded in its sidecar), for what an interruption says. */
export interface DownloadTracker {
  /** The partial file, once the download has started (undefined before: nothing kept yet). */
  partial?: string;
  keptRanges: number;
  rangeCount: number;
  keptBytes: number;
  totalBytes: number;
}

/** What is kept of a download interrupted where `t` says, and how to go on. */
export function keptOfDownload(t: DownloadTracker): string {
  if (!t.partial) return 'nothing was downloaded yet; run the same command again to download it';
  return `${t.keptRanges} of ${t.rangeCount} ranges (${formatBytes(t.keptBytes)} of ${formatBytes(t.totalBytes)}) are kept in ${t.partial}; run the same command again to continue`;
}

export interface DownloadOptions {
  /** Kept up to date with the ranges recorded on disk (what Ctrl-C says). */
  tracker?: DownloadTracker;
  parallel?: number;
  rangeBytes?: number;
  /** Told the bytes on disk so far (kept ranges included). */
  progress?: (progress: { total: number }) => Progress;
  /** For tests: the wait before retry n (1-based). */
  backoffMs?: (attempt: number) => number;
  /**
   * A fresh download URL from the service (the same call that gave the first): asked when S3
   * answers a range 403, i.e. the presigned URL expired during a long transfer.
   */
  renewUrl?: () => Promise<string | undefined>;
}

/** Renewals in a row with no range completed in between before the download gives up. */
const RENEWALS_WITHOUT_PROGRESS = 3;

/**
 * Where `bldst artifact download -O to` writes, checked before any request: an existing folder
 * (or a path ending in /) gets `<folder>/<artifact name>`, as `wget -P` and `curl --output-dir`
 * do; a folder that does not exist, or a destination that is not a regular file, is exit 2.
 */
export function destinationOf(to: string | undefined, name: string): string {
  const path = to === undefined ? name : to.endsWith('/') || isDirectory(to) ? join(to, name) : to;
  const folder = dirname(path);
  if (!isDirectory(folder))
    throw new CliError(
      existsSync(folder)
        ? `cannot write ${path}: ${folder} is not a folder`
        : `cannot write ${path}: the folder ${folder} does not exist (create it first)`,
      EXIT.usage,
      'usage',
    );
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch {
    // Not there yet: the usual case.
  }
  if (st && !st.isFile())
    throw new CliError(`cannot write ${path}: it exists and is not a regular file`, EXIT.usage, 'usage');
  try {
    // The partial file, its sidecar and the lock are created beside the destination.
    accessSync(folder, constants.W_OK);
  } catch {
    throw new CliError(`cannot write ${path}: the folder ${folder} is not writable`, EXIT.usage, 'usage');
  }
  return path;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** BLDST_DOWNLOAD_RANGE_BYTES: the range size (small ones make tests of resume cheap). */
function rangeBytesFromEnv(env = process.env): number | undefined {
  const v = env.BLDST_DOWNLOAD_RANGE_BYTES;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new CliError(
      'BLDST_DOWNLOAD_RANGE_BYTES must be a whole number of bytes above 0',
      EXIT.usage,
      'usage',
    );
  return Number(v);
}

interface Sidecar {
  checksum: string;
  size: number;
  range_bytes: number;
  done: number[];
}

export const partialPathOf = (path: string) => join(dirname(path), `.${basename(path)}.bldst-partial`);
const sidecarPathOf = (path: string) => `${partialPathOf(path)}.json`;
export const lockPathOf = (path: string) => `${partialPathOf(path)}.lock`;

interface LockOwner {
  pid: number;
  host: string;
}

/** A process on this host that no longer exists (EPERM: it exists, owned by someone else). */
function gone(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false; // another machine's pid: cannot tell, assume alive
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return Number.isInteger(o.pid) && typeof o.host === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the destination's lock or refuses (exit 3) naming the process that holds it. A lock whose
 * process is gone is moved aside under a name of this process's own (only one taker wins the
 * rename), then checked again: if it turns out to be a live process's fresh lock it is put back.
 * Returns the release, which is also run on exit and on SIGINT/SIGTERM (then the signal goes on).
 */
async function lockDestination(path: string): Promise<() => void> {
  const lock = lockPathOf(path);
  const me: LockOwner = { pid: process.pid, host: hostname() };
  for (let tries = 0; ; tries++) {
    try {
      await writeFile(lock, JSON.stringify(me), { flag: 'wx' });
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'ENOENT' || code === 'EROFS')
        throw new CliError(
          `cannot write ${path}: ${code === 'ENOENT' ? 'its folder does not exist' : 'its folder is not writable'}`,
          EXIT.usage,
          'usage',
        );
      if (code !== 'EEXIST') throw error;
    }
    const owner = readOwner(lock);
    if (tries < 5 && (owner === undefined || gone(owner))) {
      // Unreadable (a writer between create and write, or a torn file) or stale: take it over once
      // it has been seen so twice, so a lock being written is not mistaken for a broken one.
      if (owner === undefined && tries === 0) {
        await sleep(50);
        continue;
      }
      const aside = `${lock}.stale.${process.pid}`;
      try {
        await rename(lock, aside);
      } catch {
        continue; // someone else moved it first
      }
      const moved = readOwner(aside);
      if (moved && !gone(moved)) await link(aside, lock).catch(() => undefined);
      await rm(aside, { force: true });
      continue;
    }
    throw new CliError(
      `${path} is being downloaded by another bldst (pid ${owner?.pid ?? '?'}${owner && owner.host !== me.host ? ` on ${owner.host}` : ''}; lock ${lock}); wait for it, or remove the lock if that process is gone`,
      EXIT.conflict,
      'download_in_progress',
    );
  }
  let held = true;
  const signalHandlers: [NodeJS.Signals, () => void][] = [];
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    for (const [sig, fn] of signalHandlers) process.off(sig, fn);
    if (readOwner(lock)?.pid === me.pid) rmSync(lock, { force: true });
  };
  process.on('exit', release);
  // Only when nobody else handles the signal (bldst run / pipeline run have their own handling and
  // exit through process.exit, which runs the 'exit' hook): release, then die of the same signal.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    if (process.listenerCount(sig) > 0) continue;
    const fn = () => {
      release();
      process.kill(process.pid, sig);
    };
    signalHandlers.push([sig, fn]);
    process.on(sig, fn);
  }
  return release;
}

/**
 * Downloads `url` to `path`: the bytes must have `expected.checksum` (sha256:<hex>) and
 * `expected.size`. Returns what was checked. Throws exit 3 (checksum_mismatch) on a mismatch,
 * exit 6 on a network or server fault that outlived its retries; the final name never holds
 * unchecked bytes.
 */
export async function downloadChecked(
  url: string,
  path: string,
  expected: { checksum: string; size?: number | null },
  opts: DownloadOptions = {},
): Promise<{ checksum: string; size: number }> {
  timingStart();
  const release = await lockDestination(path);
  try {
    return await downloadLocked(url, path, expected, opts);
  } finally {
    release();
  }
}

async function downloadLocked(
  firstUrl: string,
  path: string,
  expected: { checksum: string; size?: number | null },
  opts: DownloadOptions,
): Promise<{ checksum: string; size: number }> {
  let url = firstUrl;
  const parallel = Math.max(1, opts.parallel ?? DEFAULT_PARALLEL);
  const rangeBytes = Math.max(1, opts.rangeBytes ?? rangeBytesFromEnv() ?? DEFAULT_RANGE_BYTES);
  const partial = partialPathOf(path);
  const sidecarPath = sidecarPathOf(path);
  const { checksum } = expected;
  const size = expected.size ?? (await sizeOf(url));
  const count = Math.max(1, Math.ceil(size / rangeBytes));
  const bounds = (i: number) => [i * rangeBytes, Math.min(size, (i + 1) * rangeBytes) - 1] as const;

  const done = new Set(await keptRanges(partial, sidecarPath, { checksum, size, range_bytes: rangeBytes }));
  const file = await open(partial, done.size ? 'r+' : 'w');
  let closed = false;
  try {
    await file.truncate(size);
    const sidecar: Sidecar = { checksum, size, range_bytes: rangeBytes, done: [...done] };
    await saveSidecar(sidecarPath, sidecar);
    const rangeSize = (i: number) => bounds(i)[1] - bounds(i)[0] + 1;
    const track = () => {
      if (!opts.tracker) return;
      Object.assign(opts.tracker, {
        partial,
        keptRanges: done.size,
        rangeCount: count,
        keptBytes: [...done].reduce((n, i) => n + rangeSize(i), 0),
        totalBytes: size,
      });
    };
    track();

    const progress = opts.progress?.({ total: size });
    const inFlight = new Map<number, number>();
    let onDisk = [...done].reduce((n, i) => n + (bounds(i)[1] - bounds(i)[0] + 1), 0);
    const report = () => progress?.update(onDisk + [...inFlight.values()].reduce((a, b) => a + b, 0));
    report();

    const hasher = new PrefixHasher(partial, count, bounds);
    for (const i of done) hasher.completed(i);

    // Ranges are recorded in the sidecar only once flushed to disk (a range in the sidecar survives
    // a crash of the machine too). The flush runs beside the transfers, never between a worker and
    // its next range: ranges finished while one flush runs are recorded together by the next.
    const unrecorded: number[] = [];
    let recording: Promise<void> = Promise.resolve();
    const record = (i: number) => {
      unrecorded.push(i);
      recording = recording.then(async () => {
        if (unrecorded.length === 0) return;
        const batch = unrecorded.splice(0);
        await file.datasync();
        for (const r of batch) done.add(r);
        sidecar.done = [...done].sort((a, b) => a - b);
        await saveSidecar(sidecarPath, sidecar);
        track();
      });
      // A failed flush surfaces once, where `recording` is awaited below, not as an unhandled rejection.
      recording.catch(() => undefined);
    };
    // URL renewal, shared by the workers: those that hit the same expired URL wait for one renewal.
    let renewing: Promise<void> | undefined;
    let renewalsWithoutProgress = 0;
    const renew = (expired: UrlRefused): Promise<void> => {
      if (!opts.renewUrl || renewalsWithoutProgress >= RENEWALS_WITHOUT_PROGRESS)
        return Promise.reject(
          new CliError(
            `${expired.message}${opts.renewUrl ? `; a fresh URL was refused too (${RENEWALS_WITHOUT_PROGRESS} in a row)` : ''}; the ranges received are kept, run the download again to continue`,
            EXIT.server,
            'download_failed',
          ),
        );
      renewing ??= (async () => {
        renewalsWithoutProgress++;
        const fresh = await opts.renewUrl!();
        if (!fresh)
          throw new CliError(
            `${expired.message}; the service gave no fresh download URL (the artifact is no longer verified?)`,
            EXIT.server,
            'download_failed',
          );
        url = fresh;
      })().finally(() => {
        renewing = undefined;
      });
      return renewing;
    };
    const fetchRange = async (i: number) => {
      const [start, end] = bounds(i);
      for (let attempt = 1; ; attempt++) {
        inFlight.set(i, 0);
        const used = url;
        try {
          if (size > 0)
            await getRange(used, partial, start, end, (n) => {
              inFlight.set(i, n);
              report();
            });
          break;
        } catch (error) {
          inFlight.delete(i);
          report();
          if (error instanceof UrlRefused) {
            // Another worker may have renewed it already while this GET was refused.
            if (used === url) await renew(error);
            attempt--; // a renewal is not a network fault: it does not use up a retry
            continue;
          }
          if (error instanceof CliError || attempt >= ATTEMPTS) throw error;
          await sleep(opts.backoffMs?.(attempt) ?? 500 * 2 ** (attempt - 1));
        }
      }
      inFlight.delete(i);
      renewalsWithoutProgress = 0;
      onDisk += end - start + 1;
      record(i);
      hasher.completed(i);
      report();
    };

    const todo = Array.from({ length: count }, (_, i) => i).filter((i) => !done.has(i));
    let next = 0;
    let failed: unknown;
    const worker = async () => {
      while (next < todo.length && failed === undefined) {
        const i = todo[next++]!;
        try {
          await fetchRange(i);
        } catch (error) {
          failed ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, todo.length) }, worker));
    // Every finished range recorded before anything else (a failure keeps them for the re-run).
    await recording;
    if (failed !== undefined) throw failed;
    timingMark('GETs');

    const got = `sha256:${await hasher.digest()}`;
    timingMark('hash tail');
    timingNote('hashing in all', hasher.busySeconds);
    progress?.done();
    if (got !== checksum) {
      // The bytes stay under the partial name for inspection; their ranges are forgotten so a
      // re-run fetches everything again instead of trusting them.
      await rm(sidecarPath, { force: true });
      throw new CliError(
        `checksum mismatch for ${basename(path)}: got ${got}, expected ${checksum}; ${path} was not written (the bytes received are in ${partial}; a re-run downloads again from the start)`,
        EXIT.conflict,
        'checksum_mismatch',
      );
    }
    await file.sync();
    // Closed before the rename: no descriptor of this process writes to the final name afterwards.
    closed = true;
    await file.close();
    timingMark('flush');
    await rename(partial, path);
    await rm(sidecarPath, { force: true });
    timingMark('rename');
    return { checksum: got, size };
  } finally {
    if (!closed) await file.close();
  }
}

/** The ranges a previous run recorded for the same artifact; anything else is thrown away. */
async function keptRanges(
  partial: string,
  sidecarPath: string,
  want: Omit<Sidecar, 'done'>,
): Promise<number[]> {
  try {
    const saved = JSON.parse(await readFile(sidecarPath, 'utf8')) as Sidecar;
    const st = await stat(partial);
    if (
      saved.checksum === want.checksum &&
      saved.size === want.size &&
      saved.range_bytes === want.range_bytes &&
      st.size === want.size &&
      Array.isArray(saved.done)
    )
      return saved.done.filter((i) => Number.isInteger(i) && i >= 0 && i * want.range_bytes < want.size);
  } catch {
    // No sidecar, no partial file or an unreadable one: start over.
  }
  await rm(partial, { force: true });
  await rm(sidecarPath, { force: true });
  return [];
}

async function saveSidecar(path: string, sidecar: Sidecar): Promise<void> {
  await writeFile(`${path}.tmp`, JSON.stringify(sidecar));
  await rename(`${path}.tmp`, path);
}

/** The object's size when none was recorded: a one-byte ranged GET (a presigned GET allows no HEAD). */
async function sizeOf(url: string): Promise<number> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = openRequest(new URL(url), { method: 'GET', headers: { range: 'bytes=0-0' } }, resolve);
    req.on('error', (e) => reject(new CliError(`download failed: ${e.message}`, EXIT.server, 'network')));
    req.end();
  });
  res.resume();
  const total = /\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''))?.[1];
  if (res.statusCode === 206 && total) return Number(total);
  if (res.statusCode === 200 && res.headers['content-length']) return Number(res.headers['content-length']);
  if (res.statusCode === 416) return 0;
  throw new CliError(
    `download failed: HTTP ${res.statusCode} asking for the size`,
    EXIT.server,
    'download_failed',
  );
}

/** GET bytes start..end of `url` into `file` at `start`; `onBytes` hears the bytes written so far. */
async function getRange(
  url: string,
  file: string,
  start: number,
  end: number,
  onBytes: (n: number) => void,
): Promise<void> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = openRequest(
      new URL(url),
      { method: 'GET', headers: { range: `bytes=${start}-${end}` } },
      resolve,
    );
    req.setTimeout(60_000, () => req.destroy(new Error('no data for 60 s')));
    req.on('error', reject);
    req.end();
  });
  const whole = res.statusCode === 200 && start === 0;
  if (res.statusCode !== 206 && !whole) {
    let body = '';
    res.setEncoding('utf8');
    for await (const c of res) body += c;
    const status = res.statusCode ?? 0;
    const text = `download failed: HTTP ${status} for bytes ${start}-${end}${body ? `: ${s3Reason(body)}` : ''}`;
    // 403: S3's answer to an expired presigned URL (AccessDenied, "Request has expired"): renewed
    // by the caller. Any other 4xx is final (a wrong URL); 5xx is retried.
    if (status === 403) throw new UrlRefused(text);
    if (status >= 400 && status < 500) throw new CliError(text, EXIT.server, 'download_failed');
    throw new Error(text);
  }
  const want = end - start + 1;
  let got = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, next) {
      got += chunk.length;
      // A server that ignores Range (200) sends the whole object: keep only this range.
      if (got > want) {
        const keep = chunk.length - (got - want);
        if (keep > 0) next(null, chunk.subarray(0, keep));
        else next();
        onBytes(want);
        return;
      }
      onBytes(got);
      next(null, chunk);
    },
  });
  await pipeline(res, count, createWriteStream(file, { flags: 'r+', start }));
  if (got < want) throw new Error(`download cut short: ${got} of ${want} bytes for bytes ${start}-${end}`);
}

/** A range refused with 403: the presigned URL expired (or was revoked); a fresh one may work. */
class UrlRefused extends Error {}

/**
 * S3's XML error as one line: `AccessDenied: Request has expired`. Anything else (a proxy's HTML
 * page) is cut to one line of 200 characters; raw markup never reaches the terminal.
 */
export function s3Reason(body: string): string {
  const tag = (t: string) => new RegExp(`<${t}>([^<]*)</${t}>`).exec(body)?.[1]?.trim();
  const code = tag('Code');
  const message = tag('Message');
  if (code || message) return [code, message].filter(Boolean).join(': ');
  return body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
}

/** SHA-256 of the file in order, fed as the contiguous prefix of completed ranges grows. */
class PrefixHasher {
  private readonly hash: Hash = createHash('sha256');
  private readonly ready = new Set<number>();
  private nextRange = 0;
  private chain = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly count: number,
    private readonly bounds: (i: number) => readonly [number, number],
  ) {}

  completed(i: number): void {
    this.ready.add(i);
    this.chain = this.chain.then(() => this.advance());
  }

  /** Seconds spent reading back and hashing (beside the GETs, and after them for the tail). */
  busySeconds = 0;

  private async advance(): Promise<void> {
    while (this.ready.has(this.nextRange)) {
      const [start, end] = this.bounds(this.nextRange);
      const t0 = process.hrtime.bigint();
      if (end >= start) await pipeline(createReadStream(this.path, { start, end }), this.feed());
      this.busySeconds += Number(process.hrtime.bigint() - t0) / 1e9;
      this.ready.delete(this.nextRange);
      this.nextRange++;
    }
  }

  private feed(): Writable {
    const hash = this.hash;
    return new Writable({
      write(chunk: Buffer, _enc, next) {
        hash.update(chunk);
        next();
      },
    });
  }

  async digest(): Promise<string> {
    await this.chain;
    if (this.nextRange < this.count)
      throw new Error(`internal: hashed ${this.nextRange} of ${this.count} ranges`);
    return this.hash.digest('hex');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
