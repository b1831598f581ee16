/**
 * Where the CLI finds the server and the key: BUILDSTATE_API_URL / BUILDSTATE_API_TOKEN override
 * the config file ($XDG_CONFIG_HOME/bldst/config.json, mode 0600).
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface CliConfig {
  url?: string;
  api_key?: string;
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

export interface Resolved {
  url: string;
  apiKey?: string;
  urlSource: 'env' | 'config' | 'default';
  keySource: 'env' | 'config' | 'none';
}

export function resolveConfig(): Resolved {
  const file = readConfigFile();
  const envUrl = process.env.BUILDSTATE_API_URL;
  const envKey = process.env.BUILDSTATE_API_TOKEN;
  return {
    url: (envUrl || file.url || 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    apiKey: envKey || file.api_key,
    urlSource: envUrl ? 'env' : file.url ? 'config' : 'default',
    keySource: envKey ? 'env' : file.api_key ? 'config' : 'none',
  };
}
