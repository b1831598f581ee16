/**
 * The HTTP client. Reads are retried on network errors and 5xx; writes carry an Idempotency-Key
 * (one per logical call), so they are retried the same way and a retried report is never
 * recorded twice.
 */
import { randomUUID } from 'node:crypto';
import { CliError, EXIT, exitCodeFor } from './errors';
import { type HttpReply, httpCall } from './http';
import type { Signer } from './sigv4';

export interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}

export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    const code = body.error?.code ?? `http_${status}`;
    super(`${code}: ${body.error?.message ?? `HTTP ${status}`}`, exitCodeFor(status), code);
  }
}

const RETRIES = 4;

export class Client {
  constructor(
    readonly url: string,
    private readonly apiKey: string | undefined,
    /** With --sigv4: signs each request (the API key is then not sent). */
    private readonly signer?: Signer,
    private readonly sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T = unknown>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.request<T>('POST', path, body, { 'idempotency-key': `bldst-${randomUUID()}`, ...headers });
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= RETRIES; attempt++) {
      if (attempt > 0) await this.sleep(Math.min(250 * 2 ** (attempt - 1), 4000));
      let res: HttpReply;
      try {
        const url = `${this.url}${path}`;
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const plain = {
          ...(this.apiKey && !this.signer ? { 'x-api-key': this.apiKey } : {}),
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
        );
      } catch (error) {
        lastError = new CliError(
          `cannot reach ${this.url}: ${(error as Error).message}`,
          EXIT.server,
          'network',
        );
        continue;
      }
      const parsed = res.body ? safeJson(res.body) : undefined;
      if (res.status >= 200 && res.status < 300) return parsed as T;
      const error = new ApiError(res.status, (parsed ?? {}) as ApiErrorBody);
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

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}
