/**
 * Where the CLI finds the server and its credentials: BUILDSTATE_API_URL / BUILDSTATE_API_TOKEN
 * override the config file ($XDG_CONFIG_HOME/bldst/config.json, mode 0600). The file holds either
 * an API key (`auth set-key`) or a user's login token (`auth login`), whichever was set last.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError, EXIT } from './errors';

export interface CliConfig {
  url?: string;
  api_key?: string;
  /** A JWT from `bldst auth login`, sent as `Authorization: Bearer`. */
  token?: string;
  token_expires_at?: string;
  token_username?: string;
  /** The refresh token of that login: trades itself for a new access token before it expires. */
  refresh_token?: string;
  refresh_expires_at?: string;
}

export const configPath = () =>
  join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'bldst', 'config.json');

/**
 * The config file's contents; {} when there is none. A file that is there but unreadable or not a
 * JSON object is an error naming it: reading it as empty would lose it at the next write.
 */
export function readConfigFile(): CliConfig {
  const file = configPath();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw corrupt(file, (error as Error).message);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw corrupt(file, `not valid JSON (${(error as Error).message})`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw corrupt(file, 'not a JSON object');
  return data as CliConfig;
}

const corrupt = (file: string, why: string) =>
  new CliError(
    `cannot read the config file ${file}: ${why}; fix it or remove it (then run bldst auth login or bldst auth set-key again)`,
    EXIT.usage,
    'config_corrupt',
  );

/**
 * Merges `update` into the file and writes it whole to a temporary file (mode 0600) in the same
 * directory, then renames it over the old one: a reader sees the old file or the new one, never
 * half of one, and a crash mid-write leaves the old file as it was.
 */
export function writeConfigFile(update: CliConfig): CliConfig {
  const next = { ...readConfigFile(), ...update };
  for (const key of Object.keys(next) as (keyof CliConfig)[]) if (next[key] === undefined) delete next[key];
  const file = configPath();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new CliError(`cannot write the config file ${file}: ${(error as Error).message}`, EXIT.usage);
  }
  return next;
}

/** How requests authenticate. */
export type Credential =
  | { kind: 'api_key'; value: string }
  | {
      kind: 'bearer';
      value: string;
      expiresAt?: string;
      username?: string;
      /** With it the access token is renewed before it expires (cli/session.ts). */
      refreshToken?: string;
      /** Read from the config file: a renewal writes the new pair back there. */
      fromFile?: boolean;
      /** Keyless sign-in from CI (cli/oidc.ts): renewed by a new exchange of the job's OIDC token. */
      oidc?: {
        audience: string;
        /** A job token handed over as is (the Concourse resource's source.oidc_token); not cached. */
        token?: string;
      };
    };

export interface Resolved {
  url: string;
  credential?: Credential;
  /** The key or token in use (whichever it is). */
  apiKey?: string;
  urlSource: 'env' | 'config' | 'default';
  keySource: 'env' | 'config' | 'oidc' | 'none';
}

/** A JWT (three base64url parts, a JSON header): sent as a Bearer token, not as X-API-Key. */
const looksLikeJwt = (value: string) => /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(value);

/**
 * `oidcAudience`: keyless sign-in from CI (cli/oidc.ts), used when no key or login is configured,
 * or always with --oidc (`forceOidc`).
 */
export function resolveConfig(oidcAudience?: string, forceOidc = false): Resolved {
  const envUrl = process.env.BUILDSTATE_API_URL;
  const envKey = process.env.BUILDSTATE_API_TOKEN;
  // As `bldst config set-url` checks a URL (a bare host:port would fail later as a network error).
  if (envUrl && !/^https?:\/\/\S+$/.test(envUrl))
    throw new CliError(
      `BUILDSTATE_API_URL=${envUrl} is not a URL: it must start with http:// or https:// (e.g. http://${envUrl.replace(/^\w+:\/\//, '')})`,
      EXIT.usage,
    );
  // With both set the file is not used, so a broken one is no reason to fail.
  const file = envUrl && envKey ? {} : readConfigFile();
  let credential: Credential | undefined;
  if (envKey)
    credential = looksLikeJwt(envKey)
      ? { kind: 'bearer', value: envKey }
      : { kind: 'api_key', value: envKey };
  else if (file.token)
    credential = {
      kind: 'bearer',
      value: file.token,
      expiresAt: file.token_expires_at,
      username: file.token_username,
      refreshToken: file.refresh_token,
      fromFile: true,
    };
  else if (file.api_key) credential = { kind: 'api_key', value: file.api_key };
  const oidc = Boolean(oidcAudience && (forceOidc || !credential));
  if (oidc) credential = { kind: 'bearer', value: '', oidc: { audience: oidcAudience! } };
  return {
    url: (envUrl || file.url || 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    credential,
    apiKey: credential?.value,
    urlSource: envUrl ? 'env' : file.url ? 'config' : 'default',
    keySource: oidc ? 'oidc' : envKey ? 'env' : credential ? 'config' : 'none',
  };
}
