/**
 * What check, in and out share: Concourse's resource contract (one JSON object on stdin, JSON on
 * stdout, logs on stderr, non-zero exit fails the step), the `source` configuration, versions,
 * and the BuildState reads they need. HTTP goes through the bldst client (retries, idempotency).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ApiError, Client } from '../../../cli/client';

const slug = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'not a valid id');
const stateCode = z.coerce.number().int().min(0).max(100);

export const sourceSchema = z
  .strictObject({
    api_url: z.url(),
    /** One of the two: an API key, or a token of Concourse's idtoken var source (`((idtoken:token))`). */
    api_key: z.string().min(1).optional(),
    oidc_token: z.string().min(1).optional(),
    /** Versions are this build's completed states (optionally only `state_code`). */
    build_id: slug.optional(),
    /** Otherwise: versions are the builds matching these filters that completed `state_code`. */
    project_id: slug.optional(),
    platform_id: slug.optional(),
    image_type_id: slug.optional(),
    state_code: stateCode.optional(),
    /** How many of the newest matching builds `check` looks at (filter mode). */
    max_builds: z.number().int().min(1).max(1000).default(100),
    /** Channel mode: versions are this channel's assignments (src/channel.ts). */
    channel: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'not a channel name (a lowercase slug)')
      .optional(),
  })
  .refine((s) => (s.api_key === undefined) !== (s.oidc_token === undefined), {
    message: 'source needs api_key, or oidc_token (from the idtoken var source), not both',
  })
  .refine((s) => s.build_id !== undefined || s.state_code !== undefined || s.channel !== undefined, {
    message:
      'source needs build_id, or state_code (with optional project_id, platform_id, image_type_id), or channel',
  });
export type Source = z.infer<typeof sourceSchema>;

/** Concourse versions are flat objects of strings. */
export const versionSchema = z.object({ build_id: z.string(), state_code: z.string(), seq: z.string() });
export type Version = z.infer<typeof versionSchema>;

export type Metadata = { name: string; value: string }[];

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Parses stdin with `schema`; a bad payload is one clear line on stderr. */
export function readRequest<T extends z.ZodType>(schema: T): z.infer<T> {
  const raw = readFileSync(0, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error('stdin is not JSON: Concourse sends {"source": …, "version": …, "params": …}');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
    throw new Error(`invalid configuration: ${issues.join('; ')}`);
  }
  return parsed.data;
}

/** Runs a resource script: its result as JSON on stdout, or the error on stderr and exit 1. */
export function main(run: () => Promise<unknown>): void {
  run().then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    },
    (error: unknown) => {
      log(`error: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}

/** With `oidc_token`, the first request trades it for a BuildState token (POST /auth/oidc). */
export function clientFor(source: Source): Client {
  const url = source.api_url.replace(/\/+$/, '');
  if (source.oidc_token)
    return new Client(url, { kind: 'bearer', value: '', oidc: { audience: '', token: source.oidc_token } });
  return new Client(url, { kind: 'api_key', value: source.api_key! });
}

export const seg = encodeURIComponent;

export interface BuildView {
  id: string;
  project_id: string;
  platform_id: string;
  image_type_id: string;
  current_state: number;
  state_name: string | null;
  state_status: string | null;
  status: string;
  attempt: number;
  last_completed_state: number | null;
  progress_percent: number;
  version: number;
}

export interface HistoryItem {
  seq: number;
  event: string;
  state_code: number;
  state_name: string | null;
  status: string | null;
  attempt: number;
  worker_id: string | null;
  recorded_at: string;
}

export async function history(client: Client, buildId: string): Promise<HistoryItem[]> {
  const items: HistoryItem[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${seg(cursor)}` : '';
    const page: { items: HistoryItem[]; next_cursor: string | null } = await client.get(
      `/builds/${seg(buildId)}/history?limit=500${query}`,
    );
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

export const isCompletion = (item: HistoryItem, code?: number) =>
  item.event === 'state_reported' &&
  item.status === 'completed' &&
  (code === undefined || item.state_code === code);

export const versionOf = (buildId: string, item: { state_code: number; seq: number }): Version => ({
  build_id: buildId,
  state_code: String(item.state_code),
  seq: String(item.seq),
});

export function describeError(error: unknown): string {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}
