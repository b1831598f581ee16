/**
 * The HTTP client. Reads are retried on network errors and 5xx; writes carry an Idempotency-Key
 * (one per logical call), so they are retried the same way and a retried report is never
 * recorded twice. With --verbose each request's method, path, status and time go to stderr;
 * BUILDSTATE_DEBUG=1 adds the bodies, with secrets masked.
 */
import { randomUUID } from 'node:crypto';
import { backoffMs } from '../lib/retry';
import type { Credential } from './config';
import { CliError, EXIT, exitCodeFor } from './errors';
import { type HttpReply, httpCall } from './http';
import { proxyFor } from './proxy';
import type { Signer } from './sigv4';

export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}

export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
    hint?: string,
  ) {
    const code = body.error?.code ?? `http_${status}`;
    // The service's advice names its API; a bldst user is told the command.
    const buildId = (body.error?.details as { build_id?: unknown } | undefined)?.build_id;
    if (!hint && code === 'blocked' && typeof buildId === 'string')
      hint = `with bldst: bldst build unblock ${buildId} --reason "…"`;
    super(
      `${code}: ${body.error?.message ?? `HTTP ${status}`}${hint ? `; ${hint}` : ''}`,
      exitCodeFor(status),
      code,
    );
  }
}

export interface ClientOptions {
  signer?: Signer;
  /** --verbose: one line per request on stderr. */
  verbose?: boolean;
  /** BUILDSTATE_DEBUG=1: also the bodies (secrets masked). */
  debug?: boolean;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
}

const RETRIES = 4;
const LOGIN_AGAIN = 'log in again: bldst auth login';
/** A 401 to a request that carried no credential at all: say where bldst reads one from. */
const NO_KEY =
  'bldst has no key to send: set BUILDSTATE_API_TOKEN (an API key or token) or run bldst auth set-key <key>';

/** Values of these fields never reach a log, whichever body they are in. */
const SECRET_FIELDS = /^(secret|password|access_token|api_key|token|authorization|x-api-key)$/i;

export function maskSecrets(text: string | undefined): string {
  if (!text) return '';
  try {
    return JSON.stringify(JSON.parse(text), (k, v) =>
      SECRET_FIELDS.test(k) && typeof v === 'string' ? `${v.slice(0, 4)}…(masked)` : v,
    );
  } catch {
    return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  }
}

export class Client {
  private readonly signer?: Signer;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: (line: string) => void;

  constructor(
    readonly url: string,
    private credential: Credential | undefined,
    private readonly options: ClientOptions = {},
  ) {
    this.signer = options.signer;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T = unknown>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.request<T>('POST', path, body, { 'idempotency-key': `bldst-${randomUUID()}`, ...headers });
  }

  /** A login's access token is renewed before it expires; one renewal at a time per client. */
  private renewing: Promise<void> | undefined;
  private async renew(): Promise<void> {
    this.renewing ??= (async () => {
      const current = this.credential as Extract<Credential, { kind: 'bearer' }>;
      if (current.oidc) {
        const { oidcSignIn } = await import('./oidc');
        // A token refused before its time is not taken from the cache again.
        this.credential = await oidcSignIn(
          this.url,
          current.oidc.audience,
          Boolean(current.value),
          current.oidc.token,
        );
        return;
      }
      const { renewLogin } = await import('./session');
      this.credential = await renewLogin(
        this.url,
        this.credential as Extract<Credential, { kind: 'bearer' }>,
      );
    })().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async authHeaders(): Promise<Record<string, string>> {
    let c = this.credential;
    if (!c || this.signer) return {};
    if (c.kind === 'api_key') return { 'x-api-key': c.value };
    if (c.oidc) {
      const { oidcNeedsRenewal } = await import('./oidc');
      if (oidcNeedsRenewal(c)) {
        await this.renew();
        c = this.credential as typeof c;
      }
    } else if (c.refreshToken) {
      const { needsRenewal } = await import('./session');
      if (needsRenewal(c)) {
        await this.renew();
        c = this.credential as typeof c;
      }
    }
    if (c.expiresAt && Date.parse(c.expiresAt) <= Date.now())
      throw new CliError(
        `your login${c.username ? ` as ${c.username}` : ''} expired at ${c.expiresAt}; ${LOGIN_AGAIN}`,
        EXIT.auth,
        'login_expired',
      );
    return { authorization: `Bearer ${c.value}` };
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    opts: { timeoutMs?: number } = {},
  ): Promise<T> {
    return (await this.requestWithHeaders<T>(method, path, body, headers, opts)).body;
  }

  /** `request`, with the answer's headers too (Idempotent-Replayed, ETag). */
  async requestWithHeaders<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    /** timeoutMs: how long one attempt may wait for its answer (default 30 s). */
    opts: { timeoutMs?: number } = {},
  ): Promise<{ body: T; headers: HttpReply['headers'] }> {
    let lastError: unknown;
    let auth = await this.authHeaders();
    let renewedAfter401 = false;
    for (let attempt = 0; attempt <= RETRIES; attempt++) {
      if (attempt > 0) await this.sleep(backoffMs(attempt - 1, { baseMs: 250, capMs: 4000, jitter: false }));
      let res: HttpReply;
      const url = `${this.url}${path}`;
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const started = performance.now();
      if (this.options.debug && payload !== undefined)
        this.log(`bldst: > ${method} ${path} ${maskSecrets(payload)}`);
      try {
        const plain = {
          ...auth,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          'user-agent': 'bldst',
          ...headers,
        };
        // Signed per attempt: a signature carries its time.
        res = await httpCall(
          method,
          url,
          this.signer ? await this.signer(method, url, plain, payload) : plain,
          payload,
          opts.timeoutMs,
        );
      } catch (error) {
        if (this.options.verbose || this.options.debug)
          this.log(
            `bldst: ${method} ${path} → ${(error as Error).message} (${Math.round(performance.now() - started)} ms)`,
          );
        const tls = tlsRefusal(error);
        if (tls)
          // A certificate does not get better by asking again: say what to do instead of retrying.
          throw new CliError(
            `the TLS certificate of ${this.url} is not trusted: ${(error as Error).message} (${tls}); if your network uses its own certificate authority (a proxy that inspects TLS does), point NODE_EXTRA_CA_CERTS at its PEM file`,
            EXIT.server,
            'tls',
          );
        const via = proxyFor(new URL(url));
        lastError = new CliError(
          via
            ? `cannot reach ${this.url} through the proxy ${via.proxy} (from ${via.variable}): ${(error as Error).message}; is the proxy running? (NO_PROXY lists hosts to reach directly)`
            : `cannot reach ${this.url}: ${(error as Error).message}${refusedHint(error)}`,
          EXIT.server,
          'network',
        );
        continue;
      }
      if (this.options.verbose || this.options.debug)
        this.log(`bldst: ${method} ${path} → ${res.status} (${Math.round(performance.now() - started)} ms)`);
      if (this.options.debug && res.body) this.log(`bldst: < ${maskSecrets(res.body)}`);
      const json = res.body ? parseJson(res.body) : undefined;
      const parsed = json !== undefined || !res.body ? json : { error: { message: res.body.slice(0, 200) } };
      if (res.status >= 200 && res.status < 300) return { body: parsed as T, headers: res.headers };
      // The service always answers JSON; a proxy that refuses (a CONNECT answered 403 or 407, a
      // policy page) does not: name the proxy, not the service, and exit as a network fault.
      const via = proxyFor(new URL(url));
      if (via && json === undefined && [403, 407, 502, 503, 504].includes(res.status)) {
        lastError = new CliError(
          `the proxy ${via.proxy} (from ${via.variable}) refused the request to ${this.url}: HTTP ${res.status}${res.body ? ` ${res.body.trim().slice(0, 200)}` : ''}${res.status === 407 ? '; the proxy wants credentials (http://user:password@host:port)' : ''}; NO_PROXY lists hosts to reach directly`,
          EXIT.server,
          'proxy',
        );
        if (res.status >= 500) continue;
        throw lastError;
      }
      const expired = res.status === 401 && this.credential?.kind === 'bearer' && !this.signer;
      // Refused before its time (a clock apart from the server's): renew once and send again.
      if (
        expired &&
        !renewedAfter401 &&
        this.credential?.kind === 'bearer' &&
        (this.credential.refreshToken || this.credential.oidc)
      ) {
        renewedAfter401 = true;
        await this.renew();
        auth = await this.authHeaders();
        attempt--;
        continue;
      }
      const error = new ApiError(
        res.status,
        (parsed ?? {}) as ApiErrorBody,
        expired ? LOGIN_AGAIN : res.status === 401 && !this.credential && !this.signer ? NO_KEY : undefined,
      );
      if (res.status >= 500 || res.status === 429) {
        lastError = error;
        const retryAfter = Number(res.headers['retry-after']);
        if (retryAfter > 0) await this.sleep(Math.min(retryAfter, 10) * 1000);
        continue;
      }
      throw error;
    }
    throw lastError;
  }
}

/** Node's codes for a certificate that failed verification (none of them a network fault). */
const TLS_REFUSALS = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
]);

/** The code of a certificate refusal, or undefined for any other error. */
function tlsRefusal(error: unknown): string | undefined {
  const code = (error as { code?: string; cause?: { code?: string } }).code;
  return code && TLS_REFUSALS.has(code) ? code : undefined;
}

/** The JSON `text` holds, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Nothing listens there: most often a local `npm start` that is stopped, or restarted on another
 * port (PORT=0). Say where its address and key are.
 */
function refusedHint(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string } };
  const refused =
    e.code === 'ECONNREFUSED' || e.cause?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e.message ?? '');
  return refused
    ? '. Is the service running? A local `npm start` prints the line to paste (export BUILDSTATE_API_URL=… BUILDSTATE_API_TOKEN=…) and keeps its address in <data folder>/service.json (.data/service.json by default); with PORT=0 the port changes on every start'
    : '';
}
