/**
 * Fan-out from the command line: the children of `bldst build fork` (from `--child k=v,…` or a
 * file), the Idempotency-Key that makes a repeated fork find the children it made, and the fork
 * call itself, shared by `build fork` and the `fan_out` section of `pipeline run`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { canonicalJson } from '../lib/canonical-json';
import { ApiError, type Client } from './client';
import { allPages, seg } from './command';
import { CliError, EXIT, usage } from './errors';

/** One child as POST /builds/{id}/fork takes it. */
export interface ForkChild {
  id?: string;
  platform_id: string;
  image_type_id?: string;
  os_version_id?: string;
  build_number?: string;
  description?: string;
  metadata?: Record<string, unknown>;
}

export interface ForkBody {
  at_state: number;
  children: ForkChild[];
}

/** A child as the API shows it (the fields this module reads). */
export interface ChildView {
  id: string;
  platform_id: string;
  parent_id: string | null;
  status: string;
  [field: string]: unknown;
}

export interface ForkAnswer {
  parent_id: string;
  fork_id: string;
  at_state: number;
  parent_version: number;
  children: ChildView[];
}

/** The plain fields a `--child` may set; `metadata.KEY=VALUE` (dotted, nested) fills `metadata`. */
export const CHILD_FIELDS = [
  'id',
  'platform_id',
  'image_type_id',
  'os_version_id',
  'build_number',
  'description',
] as const;
type ChildField = (typeof CHILD_FIELDS)[number];

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/;

/**
 * `platform_id=aws,metadata.region=us-east-1` → `{platform_id: 'aws', metadata: {region: 'us-east-1'}}`.
 * Commas separate the fields; `\,` is a comma inside a value (`description=eu\, the second
 * region`). Values are strings; typed metadata (numbers, lists) goes in a --children-file.
 */
export function parseChildSpec(spec: string, flag = '--child'): ForkChild {
  const example = `e.g. ${flag} platform_id=aws-commercial,metadata.region=us-east-1`;
  if (!spec.trim()) throw usage(`${flag} is empty; ${example}`);
  // Commas separate fields; `\,` is a comma inside a value.
  const parts = spec.split(/(?<!\\),/).map((p) => p.replace(/\\,/g, ','));
  const child: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) throw usage(`${flag} '${spec}': '${part}' is not key=value; ${example}`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1);
    if (!KEY.test(key)) throw usage(`${flag} '${spec}': '${key}' is not a field name; ${example}`);
    if (seen.has(key)) throw usage(`${flag} '${spec}': ${key} is given twice`);
    seen.add(key);
    if (value === '') throw usage(`${flag} '${spec}': ${key} has no value`);
    if (key.startsWith('metadata.')) {
      setPath(metadata, key.slice('metadata.'.length).split('.'), value, spec, flag);
    } else if ((CHILD_FIELDS as readonly string[]).includes(key)) {
      child[key as ChildField] = value;
    } else {
      throw usage(
        `${flag} '${spec}': unknown field '${key}'; fields: ${CHILD_FIELDS.join(', ')}, metadata.KEY`,
      );
    }
  }
  if (!child.platform_id) throw usage(`${flag} '${spec}': platform_id is required; ${example}`);
  return { ...(child as unknown as ForkChild), ...(Object.keys(metadata).length ? { metadata } : {}) };
}

function setPath(target: Record<string, unknown>, path: string[], value: string, spec: string, flag: string) {
  let at = target;
  for (const [n, key] of path.entries()) {
    if (['__proto__', 'constructor', 'prototype'].includes(key))
      throw usage(`${flag} '${spec}': '${key}' cannot be a metadata key`);
    if (n === path.length - 1) {
      if (key in at) throw usage(`${flag} '${spec}': metadata.${path.join('.')} clashes with another key`);
      at[key] = value;
      return;
    }
    const next = at[key];
    if (next === undefined) at = at[key] = {} as Record<string, unknown>;
    else if (typeof next === 'object' && next !== null) at = next as Record<string, unknown>;
    else throw usage(`${flag} '${spec}': metadata.${path.slice(0, n + 1).join('.')} is already a value`);
  }
}

/** The children of a JSON or YAML file: a list, or `{children: [...]}` (`-` reads stdin). */
export async function loadChildrenFile(file: string): Promise<ForkChild[]> {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.usage, 'usage');
  }
  let data: unknown;
  try {
    const { parseYaml } = await import('./yaml');
    data = parseYaml(text);
  } catch (error) {
    throw new CliError(`${file} is not YAML or JSON: ${(error as Error).message}`, EXIT.usage, 'usage');
  }
  if (data && typeof data === 'object' && !Array.isArray(data) && 'children' in data)
    data = (data as { children: unknown }).children;
  if (!Array.isArray(data) || data.some((c) => !c || typeof c !== 'object' || Array.isArray(c)))
    throw usage(`${file}: expected a list of children (objects with platform_id, metadata, …)`);
  // The server checks every field (and answers 400 with the path of each problem).
  return data as ForkChild[];
}

export { canonicalJson };

/**
 * The Idempotency-Key of a fork when none is given: derived from the parent and the request, so
 * running the same fork again (a retried CI job, a re-run pipeline) replays it and finds the
 * children it made instead of making new ones. The server scopes keys to the caller.
 */
export const forkKey = (parentId: string, body: ForkBody) =>
  `bldst-fork-${createHash('sha256')
    .update(`${parentId}\n${canonicalJson(body)}`)
    .digest('hex')
    .slice(0, 40)}`;

/** POST /builds/{id}/fork under `key`; says on `log` whether the answer is a replay. */
export async function fork(
  client: Client,
  parentId: string,
  body: ForkBody,
  key: string,
): Promise<{ answer: ForkAnswer; replayed: boolean }> {
  const { body: answer, headers } = await client.requestWithHeaders<ForkAnswer>(
    'POST',
    `/builds/${seg(parentId)}/fork`,
    body,
    { 'idempotency-key': key },
  );
  return { answer, replayed: headers['idempotent-replayed'] === 'true' };
}

/**
 * The children a fork made, found again: a replay of the same key answers with them; when the
 * children have their own ids and another caller made them (another key scope: `409 build_exists`),
 * they are looked up among the parent's children, by id.
 */
export async function forkOrFind(
  client: Client,
  parentId: string,
  body: ForkBody,
  key: string,
  log: (line: string) => void,
): Promise<ChildView[]> {
  try {
    const { answer, replayed } = await fork(client, parentId, body, key);
    log(
      replayed
        ? `fork at ${body.at_state}: found the ${answer.children.length} children made before (fork ${answer.fork_id})`
        : `fork at ${body.at_state}: made ${answer.children.length} children (fork ${answer.fork_id})`,
    );
    // A replay repeats the first answer: each child as it was then. Read them as they are now.
    return replayed
      ? Promise.all(answer.children.map((c) => client.get<ChildView>(`/builds/${seg(c.id)}`)))
      : answer.children;
  } catch (error) {
    const ids = body.children.map((c) => c.id);
    if (!(error instanceof ApiError && error.code === 'build_exists') || ids.some((id) => !id)) throw error;
    const existing = new Map(
      (await allPages<ChildView>(client, `/builds/${seg(parentId)}/children`)).map((c) => [c.id, c]),
    );
    const found = ids.map((id) => existing.get(id!));
    if (found.some((c) => !c)) throw error;
    log(`fork at ${body.at_state}: the ${found.length} children exist already (found by id)`);
    return found as ChildView[];
  }
}
