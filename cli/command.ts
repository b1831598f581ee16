/**
 * What a bldst command is, and the small helpers commands share. Options are declared `as const`
 * and `defineCommand` maps them to typed values (a string option is `string | undefined`, a
 * boolean `boolean | undefined`), so a command cannot read an option it did not declare.
 */
import type { Client } from './client';
import { usage } from './errors';
import { handedDown } from './lease';
import { type OutputMode, printJson, printRecord, type Style } from './output';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given more than once (`--child a --child b`): the values arrive as a list, in order. */
  multiple?: boolean;
  description: string;
}

export interface Ctx {
  output: OutputMode;
  /** -o/--output was given (not the default for a terminal or a pipe). */
  outputAsked: boolean;
  quiet: boolean;
  /** --wide: tables show every column and whole cells. */
  wide: boolean;
  style: Style;
  client(): Client;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export type ValuesOf<O extends Record<string, OptionSpec>> = {
  [K in keyof O]?: O[K]['multiple'] extends true
    ? string[]
    : O[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

/** Only `defineCommand` makes a Command: a command literal cannot skip the typing of its options. */
declare const TYPED: unique symbol;

export interface Command {
  readonly [TYPED]: true;
  path: string[];
  alias?: string[];
  args?: string;
  summary: string;
  options?: Record<string, OptionSpec>;
  examples: string[];
  /** More help after the examples, e.g. the environment a command's steps get: a title and its rows. */
  helpSections?: { title: string; rows: [string, string][] }[];
  /** Everything after `--` is passed through untouched (the command to run). */
  passthrough?: boolean;
  run(ctx: Ctx, values: Values, positionals: string[], rest: string[]): Promise<number | undefined>;
}

/** A command whose `run` sees its own options, typed. */
export function defineCommand<const O extends Record<string, OptionSpec> = Record<never, OptionSpec>>(
  c: Omit<Command, typeof TYPED | 'options' | 'run'> & {
    options?: O;
    run(ctx: Ctx, values: ValuesOf<O>, positionals: string[], rest: string[]): Promise<number | undefined>;
  },
): Command {
  return c as unknown as Command;
}

export const seg = encodeURIComponent;

/** Options several commands declare alike. */
export const stateOpt = { type: 'string', description: 'state code 0-100' } as const;
export const progressOpt = {
  type: 'boolean',
  description: 'show progress on a pipe too (a terminal shows it unless -q)',
} as const;

export function one(positionals: string[], name: string): string {
  if (positionals.length !== 1) throw usage(`expected exactly one ${name}`);
  return positionals[0]!;
}

/** The build a command works on: its argument, else the one an outer `bldst run` handed down. */
export function buildArg(positionals: string[]): string {
  if (positionals.length === 0 && handedDown().buildId) return handedDown().buildId!;
  if (positionals.length !== 1)
    throw usage('expected exactly one build id (or $BLDST_BUILD_ID from bldst run)');
  return positionals[0]!;
}

export function json(value: string | undefined, flag: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw usage(`${flag} must be JSON, e.g. '{"packer":"1.9.1"}'`);
  }
}

export function int(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw usage(`${flag} must be a whole number`);
  return Number(value);
}

export const compact = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** One record: its essential value with -q, JSON, or key/value lines. */
export function show(ctx: Ctx, record: object, quiet?: unknown): void {
  if (ctx.quiet && quiet !== undefined) process.stdout.write(`${quiet}\n`);
  else if (ctx.output === 'json') printJson(record);
  else printRecord(record as Record<string, unknown>, ctx.style);
}

/**
 * An artifact without its presigned URLs unless `-o json` asked for them: CI logs are read by
 * many, and the URLs grant access to the object until they expire.
 */
export function withoutUrls(ctx: Ctx, artifact: Record<string, unknown>): Record<string, unknown> {
  if (ctx.outputAsked && ctx.output === 'json') return artifact;
  const { upload: _u, download: _d, ...rest } = artifact;
  return rest;
}

/** Every item of a `{items, next_cursor}` collection. */
export async function allPages<T>(client: Client, path: string, limit = 100): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  const sep = path.includes('?') ? '&' : '?';
  do {
    const page: { items: T[]; next_cursor?: string | null } = await client.get(
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${seg(cursor)}` : ''}`,
    );
    items.push(...page.items);
    cursor = page.next_cursor ?? null;
  } while (cursor);
  return items;
}
