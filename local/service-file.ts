/**
 * `<data folder>/service.json`: what a running `npm start` serves (its address, table, bucket and
 * the engines' endpoints), so that tools run beside it (`npm run sweep:artifacts`) find the
 * service without being told. No secrets: only where things are. Removed when `npm start` stops.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENV } from '../lib/config/env';

export const SERVICE_FILE = 'service.json';

export interface ServiceFile {
  pid: number;
  url: string;
  table_name: string;
  artifacts_bucket: string;
  dynamodb_endpoint: string;
  /** The DynamoDB Local engine's pid (null when the service uses an engine it did not start). */
  dynamodb_pid: number | null;
  s3_endpoint: string;
  region: string;
  started_at: string;
}

/** Writes the file; the returned function removes it (only if it is still this process's). */
export function writeServiceFile(dataDir: string, info: Omit<ServiceFile, 'pid' | 'started_at'>): () => void {
  const file = join(dataDir, SERVICE_FILE);
  const content: ServiceFile = { pid: process.pid, ...info, started_at: new Date().toISOString() };
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
  return () => {
    if (readServiceFile(dataDir)?.pid === process.pid) rmSync(file, { force: true });
  };
}

/** The running service of a data folder, or null if there is none (no file, or its process is gone). */
export function readServiceFile(dataDir: string): ServiceFile | null {
  const file = join(dataDir, SERVICE_FILE);
  if (!existsSync(file)) return null;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as ServiceFile;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}

/**
 * For a tool that reads the service's settings: when the table is not named in the environment,
 * take the settings of the `npm start` running on BUILDSTATE_DATA_DIR (default `.data`). Returns
 * a one-line explanation when neither is there.
 */
export function useLocalServiceSettings(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env[ENV.tableName]) return null;
  const dataDir = resolve(env.BUILDSTATE_DATA_DIR || '.data');
  const info = readServiceFile(dataDir);
  if (!info)
    return `set ${ENV.tableName} and ${ENV.artifactsBucket} (with AWS credentials), or start the service with npm start (no running service found in ${dataDir})`;
  env[ENV.tableName] = info.table_name;
  env[ENV.artifactsBucket] ??= info.artifacts_bucket;
  env[ENV.dynamodbEndpoint] ??= info.dynamodb_endpoint;
  env[ENV.s3Endpoint] ??= info.s3_endpoint;
  env[ENV.region] ??= info.region;
  return null;
}
