/**
 * Every bldst command: one entry per API operation (flags named as the API's fields), plus run,
 * pipeline run, watch and completion. --help texts and shell completion are generated from here.
 * Each area's commands live in its own file (commands-<area>.ts), each declared with
 * `defineCommand`, so a command reads only the options it declares, typed.
 */
import { ApiError } from './client';
import type { Command } from './command';
import { ARTIFACT_COMMANDS } from './commands-artifacts';
import { BUILD_COMMANDS } from './commands-builds';
import { CONFIG_COMMANDS } from './commands-config';
import { FAN_OUT_COMMANDS } from './commands-fan-out';
import { IDENTITY_COMMANDS } from './commands-identity';
import { LINEAGE_COMMANDS } from './commands-lineage';
import { OPS_COMMANDS } from './commands-ops';
import { PROVENANCE_COMMANDS } from './commands-provenance';
import { REFERENCE_COMMANDS } from './commands-reference';
import { RUN_COMMANDS } from './commands-run';
import { WATCH_COMMANDS } from './commands-watch';
import { CliError } from './errors';
import { defaultOutput } from './output';

export type { Command, Ctx, OptionSpec } from './command';

/** The commands of the first files, in this order: help lists a group's commands in the order given here. */
const CORE: Command[] = [
  ...CONFIG_COMMANDS,
  ...BUILD_COMMANDS,
  ...ARTIFACT_COMMANDS,
  ...RUN_COMMANDS,
  ...WATCH_COMMANDS,
];

/** Help lists commands in this order of their first word (the order a new user needs them). */
const GROUPS = [
  'config',
  'auth',
  'user',
  'token',
  'api-key',
  'project',
  'platform',
  'os-version',
  'image-type',
  'state-codes',
  'build',
  'artifact',
  'image',
  'channel',
  'provenance',
  'run',
  'pipeline',
  'watch',
  'lease',
  'heartbeat',
  'dashboard',
];

export const COMMANDS: Command[] = [
  ...CORE,
  ...FAN_OUT_COMMANDS,
  ...LINEAGE_COMMANDS,
  ...PROVENANCE_COMMANDS,
  ...REFERENCE_COMMANDS,
  ...IDENTITY_COMMANDS,
  ...OPS_COMMANDS,
]
  .map((c, i) => ({ c, i }))
  .sort((x, y) => GROUPS.indexOf(x.c.path[0]!) - GROUPS.indexOf(y.c.path[0]!) || x.i - y.i)
  .map(({ c }) => c);

export { ApiError, CliError, defaultOutput };
