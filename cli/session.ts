/**
 * A login that lasts as long as the work: `bldst auth login` stores an access token (a JWT, minutes)
 * and a refresh token (days). Before a request, a client whose access token is close to expiry
 * trades the refresh token for a new pair (POST /auth/refresh) and writes both to the config file.
 * The refresh token works once (the server rotates it; presenting a used one revokes the login),
 * so processes sharing the config file renew under a lock file: the one that renews writes the
 * new pair, the others take it from the file instead of presenting the used token.
 */
import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { type Credential, configPath, readConfigFile, writeConfigFile } from './config';
import { CliError, EXIT } from './errors';
import { httpCall } from './http';

export type BearerCredential = Extract<Credential, { kind: 'bearer' }>;

interface TokenAnswer {
  access_token: string;
  expires_in: number;
  expires_at: string;
  refresh_token?: string;
  refresh_expires_at?: string;
}

/** Seconds from a JWT's `iat` to its `exp`, if it has both. */
export function tokenLifetime(jwt: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload.exp === 'number' && typeof payload.iat === 'number'
      ? payload.exp - payload.iat
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Renew when less than a third of the token's life is left (at most 5 minutes before, at least 10
 * seconds): a 15-minute token is renewed at 10 minutes, a 60-second one at 40 seconds.
 */
export function needsRenewal(c: BearerCredential, now = Date.now()): boolean {
  if (!c.refreshToken || !c.expiresAt) return false;
  const life = tokenLifetime(c.value) ?? 900;
  const margin = Math.max(10, Math.min(300, life / 3)) * 1000;
  return Date.parse(c.expiresAt) - now <= margin;
}

const LOCK_WAIT_MS = 15_000;
const STALE_LOCK_MS = 30_000;

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  const lock = `${configPath()}.lock`;
  const started = Date.now();
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(lock, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // No config folder yet: nothing shares it.
        return work();
      }
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        // A lock left by a process that died mid-renewal.
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
      } catch {
        // Removed meanwhile.
      }
      if (Date.now() - started > LOCK_WAIT_MS)
        throw new CliError(`cannot lock ${lock} to renew the login`, EXIT.auth);
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 50));
    }
  }
  try {
    return await work();
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

/** The login as the config file holds it now, if it is the same login as `c` (or its successor). */
function storedSuccessor(c: BearerCredential): BearerCredential | undefined {
  let file: ReturnType<typeof readConfigFile>;
  try {
    file = readConfigFile();
  } catch {
    return undefined;
  }
  if (!file.token || !file.refresh_token || file.token_username !== c.username) return undefined;
  if (file.refresh_token === c.refreshToken) return undefined;
  return {
    kind: 'bearer',
    value: file.token,
    expiresAt: file.token_expires_at,
    username: file.token_username,
    refreshToken: file.refresh_token,
    fromFile: c.fromFile,
  };
}

/**
 * A fresh access token for this login: another process's renewal when the file has one, else a
 * rotation of the refresh token. Throws (exit 5) with the server's reason when the login cannot be
 * renewed (revoked, expired, user deactivated).
 */
export async function renewLogin(url: string, c: BearerCredential): Promise<BearerCredential> {
  const renew = async (): Promise<BearerCredential> => {
    const newer = c.fromFile ? storedSuccessor(c) : undefined;
    if (newer && !needsRenewal(newer)) return newer;
    const current = newer ?? c;
    let reply: Awaited<ReturnType<typeof httpCall>>;
    try {
      // One attempt: a retry of a rotation whose answer was lost would present a used token.
      reply = await httpCall(
        'POST',
        `${url}/auth/refresh`,
        { 'content-type': 'application/json', 'user-agent': 'bldst' },
        JSON.stringify({ refresh_token: current.refreshToken }),
      );
    } catch (error) {
      throw new CliError(
        `cannot renew the login: cannot reach ${url}: ${(error as Error).message}`,
        EXIT.server,
        'network',
      );
    }
    let body: TokenAnswer & { error?: { message?: string } };
    try {
      body = JSON.parse(reply.body);
    } catch {
      body = {} as TokenAnswer;
    }
    if (reply.status !== 200 || !body.access_token)
      throw new CliError(
        `your login${c.username ? ` as ${c.username}` : ''} cannot be renewed: ${body.error?.message ?? `HTTP ${reply.status}`}; log in again: bldst auth login`,
        reply.status >= 500 ? EXIT.server : EXIT.auth,
        'login_expired',
      );
    const next: BearerCredential = {
      kind: 'bearer',
      value: body.access_token,
      expiresAt: body.expires_at,
      username: current.username,
      refreshToken: body.refresh_token,
      fromFile: c.fromFile,
    };
    if (c.fromFile)
      writeConfigFile({
        token: next.value,
        token_expires_at: next.expiresAt,
        refresh_token: next.refreshToken,
        refresh_expires_at: body.refresh_expires_at,
      });
    return next;
  };
  return c.fromFile ? withLock(renew) : renew();
}
