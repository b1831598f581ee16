/**
 * Where the CLI finds the server and its credentials: BUILDSTATE_API_URL / BUILDSTATE_API_TOKEN
 * override the config file ($XDG_CONFIG_HOME/bldst/config.json, mode 0600). The file holds either
 * an API key (`auth set-key`) or a user's login token (`auth login`), whichever was set last.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface CliConfig {
  url?: string;
  api_key?: string;
  /** A JWT from `bldst auth login`, sent as `Authorization: Bearer`. */
  token?: string;
  token_expires_at?: string;
  token_username?: string;
}

export const configPath = () =>
  join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'bldst', 'config.json');

export function readConfigFile(): CliConfig {
  try {
    return JSON.parse(readFileSync(configPath(), 'utf8')) as CliConfig;
  } catch {
    return {};
  }
}

export function writeConfigFile(update: CliConfig): CliConfig {
  const next = { ...readConfigFile(), ...update };
  for (const key of Object.keys(next) as (keyof CliConfig)[]) if (next[key] === undefined) delete next[key];
  const file = configPath();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return next;
}

/** How requests authenticate. */
export type Credential =
  | { kind: 'api_key'; value: string }
  | { kind: 'bearer'; value: string; expiresAt?: string; username?: string };

export interface Resolved {
  url: string;
  credential?: Credential;
  /** The key or token in use (whichever it is). */
  apiKey?: string;
  urlSource: 'env' | 'config' | 'default';
  keySource: 'env' | 'config' | 'none';
}

/** A JWT (three base64url parts, a JSON header): sent as a Bearer token, not as X-API-Key. */
const looksLikeJwt = (value: string) => /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(value);

export function resolveConfig(): Resolved {
  const file = readConfigFile();
  const envUrl = process.env.BUILDSTATE_API_URL;
  const envKey = process.env.BUILDSTATE_API_TOKEN;
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
    };
  else if (file.api_key) credential = { kind: 'api_key', value: file.api_key };
  return {
    url: (envUrl || file.url || 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    credential,
    apiKey: credential?.value,
    urlSource: envUrl ? 'env' : file.url ? 'config' : 'default',
    keySource: envKey ? 'env' : credential ? 'config' : 'none',
  };
}
