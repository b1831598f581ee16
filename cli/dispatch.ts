import { parseArgs } from 'node:util';
import { Client } from './client';
import { COMMANDS, type Command, type Ctx, type OptionSpec } from './commands';
import { resolveConfig } from './config';
import { CliError, EXIT, usage } from './errors';
import { defaultOutput, detectStyle, type OutputMode, wrap } from './output';
import { choice, didYouMean } from './suggest';

declare const __BLDST_VERSION__: string;

/** Options every command takes, before or after its words (never after `--`). A command's own option of the same name wins. */
export const GLOBAL = {
  output: {
    type: 'string',
    short: 'o',
    description: 'table | json (default: table on a terminal, json when piped)',
  },
  quiet: { type: 'boolean', short: 'q', description: 'print only the essential value (e.g. the build id)' },
  wide: { type: 'boolean', description: 'tables show every cell whole, however wide' },
  verbose: {
    type: 'boolean',
    short: 'v',
    description: "each request's method, path, status and time on stderr (BUILDSTATE_DEBUG=1 adds bodies)",
  },
  sigv4: { type: 'boolean', description: 'sign requests with SigV4 (AWS credential chain) for the IAM API' },
  oidc: {
    type: 'boolean',
    description:
      "sign in with this CI job's OIDC token (BUILDSTATE_OIDC_AUDIENCE; automatic when it is set and no key is)",
  },
  help: { type: 'boolean', short: 'h', description: 'show help' },
} as const;

/**
 * Global options standing before the command words (`bldst --verbose build list`), taken off so
 * the words can be found; they are parsed with the command's own options afterwards.
 */
export function leadingGlobals(argv: string[]): { globals: string[]; rest: string[] } {
  const byName = new Map<string, { type: string }>();
  for (const [name, o] of Object.entries(GLOBAL)) {
    byName.set(`--${name}`, o);
    if ('short' in o) byName.set(`-${o.short}`, o);
  }
  let i = 0;
  const globals: string[] = [];
  while (i < argv.length) {
    const word = argv[i]!;
    const flag = byName.get(word.split('=')[0]!);
    if (!flag || word === '--help' || word === '-h') break;
    globals.push(word);
    if (flag.type === 'string' && !word.includes('=')) {
      if (i + 1 >= argv.length) break;
      globals.push(argv[i + 1]!);
      i++;
    }
    i++;
  }
  return { globals, rest: argv.slice(i) };
}

const EXIT_CODES = `Exit codes: 0 ok, 1 \`provenance verify\` found a failed check, 2 usage or rejected input, 3 conflict (409/412, blocked, checksum mismatch), 4 not found, 5 authentication, 6 server or network error; \`run\` and \`pipeline run\` pass the failing command's code through.`;

const names = (c: Command) => [c.path.join(' '), ...(c.alias ? [c.alias.join(' ')] : [])];

function findCommand(argv: string[]): { command?: Command; consumed: number } {
  let best: { command?: Command; consumed: number } = { consumed: 0 };
  for (const c of COMMANDS) {
    for (const path of [c.path, c.alias].filter(Boolean) as string[][]) {
      if (path.length > best.consumed && path.every((word, i) => argv[i] === word))
        best = { command: c, consumed: path.length };
    }
  }
  return best;
}

/** "unknown command 'biuld'; did you mean 'build'?", from every command's words. */
function unknownCommand(words: string[]): string {
  const phrases = [...COMMANDS.flatMap(names), 'completion'];
  const firsts = phrases.map((p) => p.split(' ')[0]!);
  const group = firsts.includes(words[0]!) && words[1] !== undefined;
  const asked = group ? `${words[0]} ${words[1]}` : words[0]!;
  const subs = phrases.filter((p) => p.startsWith(`${words[0]} `)).map((p) => p.slice(words[0]!.length + 1));
  const near = group
    ? didYouMean(words[1]!, subs, (s) => `'${words[0]} ${s}'`)
    : didYouMean(words[0]!, firsts);
  return `unknown command '${asked}'${near}${near ? ' See' : '; see'} bldst ${group ? `${words[0]} ` : ''}--help`;
}

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => names(c)[0]!.length)) + 1;
  const columns = detectStyle().width;
  const rows = COMMANDS.map((c) =>
    wrap(`  ${names(c)[0]!.padEnd(width)} ${c.summary}`, columns, ' '.repeat(width + 3)),
  );
  return [
    'bldst — report and query BuildState build states from pipelines',
    '',
    'Usage: bldst <command> [options]',
    '',
    'Commands:',
    ...rows,
    `  ${'completion'.padEnd(width)} Print a shell completion script: bldst completion bash|zsh`,
    '',
    ...[
      'Global options (before or after the command words): -o/--output table|json, -q/--quiet, --wide, -v/--verbose, --sigv4, --oidc, -h/--help; bldst --version',
      'Colour: on a terminal unless NO_COLOR is set; FORCE_COLOR=1 forces it, FORCE_COLOR=0 turns it off.',
      'Server and key: BUILDSTATE_API_URL and BUILDSTATE_API_TOKEN, else `bldst config set-url` / `bldst auth set-key`.',
      EXIT_CODES,
    ].map((l) => wrap(l, columns)),
    '',
    "Run `bldst <command> --help` for a command's options and examples.",
  ].join('\n');
}

/** `bldst build --help`: the commands of one group, with their summaries. */
function groupHelp(group: string): string | undefined {
  const members = COMMANDS.filter((c) => c.path[0] === group);
  // A command of one word (run, watch) has its own help.
  if (members.length === 0 || members.some((c) => c.path.length === 1)) return undefined;
  const width = Math.max(...members.map((c) => names(c)[0]!.length)) + 1;
  const columns = detectStyle().width;
  return [
    `Usage: bldst ${group} <command> [options]`,
    '',
    'Commands:',
    ...members.map((c) =>
      wrap(`  ${names(c)[0]!.padEnd(width)} ${c.summary}`, columns, ' '.repeat(width + 3)),
    ),
    '',
    `Run \`bldst ${group} <command> --help\` for a command's options and examples; \`bldst --help\` lists every group.`,
  ].join('\n');
}

/** An option's help line, its description wrapped under itself at the terminal's width. */
function optionLines(options: Record<string, OptionSpec>, width: number): string[] {
  return Object.entries(options).map(([name, o]) => {
    const flag = `  ${`${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ' <value>' : ''}`.padEnd(30)} `;
    const text = `${o.description}${o.multiple ? ' (repeatable)' : ''}`;
    return flag.length + 20 > width
      ? `${flag.trimEnd()}\n${wrap(`      ${text}`, width, '      ')}`
      : wrap(`${flag}${text}`, width, ' '.repeat(flag.length));
  });
}

/** A command's help: its own options first, then the global ones, wrapped to the terminal. */
function commandHelp(c: Command, width = detectStyle().width): string {
  return [
    c.passthrough
      ? `Usage: bldst ${names(c)[0]} [options] ${c.args ?? ''}`.trimEnd()
      : `Usage: bldst ${names(c)[0]}${c.args ? ` ${c.args}` : ''} [options]`,
    c.alias ? `Alias: bldst ${c.alias.join(' ')}` : '',
    '',
    wrap(c.summary, width),
    '',
    ...(c.options && Object.keys(c.options).length ? ['Options:', ...optionLines(c.options, width), ''] : []),
    'Global options:',
    ...optionLines(GLOBAL as Record<string, OptionSpec>, width),
    '',
    'Examples:',
    ...c.examples.map((e) => `  ${e}`),
    ...(c.helpSections ?? []).flatMap((section) => {
      const width = Math.max(...section.rows.map(([name]) => name.length)) + 1;
      return [
        '',
        `${section.title}:`,
        ...section.rows.map(([name, text]) => `  ${name.padEnd(width)} ${text}`),
      ];
    }),
    '',
    wrap(EXIT_CODES, width),
  ]
    .filter((line, i, all) => !(line === '' && all[i - 1] === ''))
    .join('\n');
}

function completion(shell: string | undefined): string {
  const top = [...new Set(COMMANDS.map((c) => c.path[0]!)), 'completion'];
  const subs = new Map<string, string[]>();
  for (const c of COMMANDS)
    if (c.path.length > 1)
      subs.set(c.path[0]!, [...(subs.get(c.path[0]!) ?? []), c.path[1]!, ...(c.alias ? [c.alias[1]!] : [])]);
  const flags = new Map(
    COMMANDS.map((c) => [c.path.join(' '), Object.keys(c.options ?? {}).map((o) => `--${o}`)]),
  );
  if (shell === 'bash') {
    const cases = [...subs]
      .map(([k, v]) => `    ${k}) COMPREPLY=($(compgen -W "${v.join(' ')}" -- "$cur")); return;;`)
      .join('\n');
    const flagCases = [...flags]
      .map(
        ([k, v]) =>
          `    "${k}") COMPREPLY=($(compgen -W "${[...v, '--output', '--quiet', '--help'].join(' ')}" -- "$cur")); return;;`,
      )
      .join('\n');
    return `# bldst bash completion: eval "$(bldst completion bash)"
_bldst() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=($(compgen -W "${top.join(' ')}" -- "$cur")); return; fi
  if [ "$COMP_CWORD" -eq 2 ]; then case "\${COMP_WORDS[1]}" in
${cases}
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return;;
  esac; fi
  case "\${COMP_WORDS[1]} \${COMP_WORDS[2]}" in
${flagCases}
  esac
  case "\${COMP_WORDS[1]}" in
${[...flags]
  .filter(([k]) => !k.includes(' '))
  .map(([k, v]) => `    ${k}) COMPREPLY=($(compgen -W "${v.join(' ')}" -- "$cur"));;`)
  .join('\n')}
  esac
}
complete -F _bldst bldst
`;
  }
  if (shell === 'zsh')
    return `# bldst zsh completion: eval "$(bldst completion zsh)"\nautoload -U +X bashcompinit && bashcompinit\n${completion('bash')}`;
  throw usage('usage: bldst completion bash|zsh');
}

const COMPLETION_HELP = `Usage: bldst completion bash|zsh

Print a shell completion script for bldst.

Examples:
  eval "$(bldst completion bash)"     # in ~/.bashrc
  eval "$(bldst completion zsh)"      # in ~/.zshrc`;

export async function dispatch(argv: string[]): Promise<number> {
  const { globals, rest: words } = leadingGlobals(argv);
  // `bldst help build` and `bldst build [--help]`: the group's commands.
  const asked = words[0] === 'help' ? words[1] : words[0];
  const group = asked === undefined ? undefined : groupHelp(asked);
  const bareGroup = words[0] !== 'help' && words.length === 1 && !findCommand(words).command;
  if (group && (words[0] === 'help' || bareGroup || words[1] === '--help' || words[1] === '-h')) {
    process.stdout.write(`${group}\n`);
    return bareGroup && !globals.some((g) => g === '--help' || g === '-h') ? EXIT.usage : EXIT.ok;
  }
  if (words.length === 0 || words[0] === '--help' || words[0] === '-h' || words[0] === 'help') {
    process.stdout.write(`${topHelp()}\n`);
    return words.length === 0 && !globals.some((g) => g === '--help' || g === '-h') ? EXIT.usage : EXIT.ok;
  }
  if (words[0] === '--version' || words[0] === '-V') {
    process.stdout.write(
      `bldst ${typeof __BLDST_VERSION__ === 'string' ? __BLDST_VERSION__ : '0.0.0-dev'}\n`,
    );
    return EXIT.ok;
  }
  if (words[0] === 'completion') {
    if (words[1] === '--help' || words[1] === '-h') {
      process.stdout.write(`${COMPLETION_HELP}\n`);
      return EXIT.ok;
    }
    process.stdout.write(completion(words[1]));
    return EXIT.ok;
  }
  const { command, consumed } = findCommand(words);
  if (!command) throw new CliError(unknownCommand(words), EXIT.usage, 'usage');

  let args = [...globals, ...words.slice(consumed)];
  let rest: string[] = [];
  const dashdash = args.indexOf('--');
  if (dashdash >= 0) {
    rest = args.slice(dashdash + 1);
    args = args.slice(0, dashdash);
  }
  const options = Object.fromEntries(
    Object.entries({ ...GLOBAL, ...command.options }).map(([k, o]) => [
      k,
      {
        type: o.type,
        ...('short' in o && o.short ? { short: o.short } : {}),
        ...('multiple' in o && o.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: negativeValuesInline(args, options),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!;
    // Node's message for an unknown flag goes on about positionals: say the flag and its nearest.
    const unknown = message.match(/^Unknown option '(-{1,2}[^']+)'/)?.[1];
    const flags = Object.entries({ ...GLOBAL, ...command.options }).map(([k]) => `--${k}`);
    const hint = unknown ? didYouMean(unknown.split('=')[0]!, flags) : '';
    const see = `${hint ? ' See' : '; see'} bldst ${names(command)[0]} --help`;
    throw usage(
      unknown ? `unknown option ${unknown} for bldst ${names(command)[0]}${hint}${see}` : `${message}${see}`,
    );
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) {
    process.stdout.write(`${commandHelp(command)}\n`);
    return EXIT.ok;
  }
  if (rest.length && !command.passthrough)
    throw usage(`bldst ${names(command)[0]} takes no arguments after --`);
  const output = values.output ?? defaultOutput();
  choice(String(output), ['table', 'json'], '--output');

  const { oidcAudience } = await import('./oidc');
  const cfg = resolveConfig(oidcAudience(Boolean(values.oidc)), Boolean(values.oidc));
  let signer: import('./sigv4').Signer | undefined;
  if (values.sigv4) {
    const sigv4 = await import('./sigv4');
    // A local mistake: said before any request, as exit 2 with what to set.
    sigv4.resolveRegion(new URL(cfg.url));
    signer = sigv4.createSigner();
  }
  const debug = Boolean(process.env.BUILDSTATE_DEBUG && process.env.BUILDSTATE_DEBUG !== '0');
  const client = new Client(cfg.url, cfg.credential, { signer, verbose: Boolean(values.verbose), debug });
  const ctx: Ctx = {
    output: output as OutputMode,
    outputAsked: values.output !== undefined,
    quiet: Boolean(values.quiet),
    wide: Boolean(values.wide),
    style: detectStyle(),
    client: () => client,
  };
  return (await command.run(ctx, values, parsed.positionals, rest)) ?? EXIT.ok;
}

/**
 * `--part-size -5MiB`: node's parseArgs refuses a value that starts with a dash as "ambiguous" and
 * asks for `--part-size=-5MiB`. A dash followed by a digit is never one of bldst's flags, so such a
 * value is handed to parseArgs in the form it asks for, and the option's own check answers it
 * (`--part-size -5MiB: must be between 5MiB and 5GiB`). Where the value is, parseArgs says itself
 * (its tokens, parsing leniently); nothing else of argv is read here.
 */
export function negativeValuesInline(
  args: string[],
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'],
): string[] {
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const out = [...args];
  // From the end, so the indexes of earlier tokens stay right as pairs become one argument.
  for (const t of [...tokens].reverse()) {
    if (t.kind !== 'option' || t.inlineValue !== false || typeof t.value !== 'string') continue;
    if (!/^-\d/.test(t.value) || options?.[t.name]?.type !== 'string') continue;
    out.splice(t.index, 2, `${t.rawName}=${t.value}`);
  }
  return out;
}
