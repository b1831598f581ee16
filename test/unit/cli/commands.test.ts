import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../../cli/commands';
import { GLOBAL } from '../../../cli/dispatch';

describe('the command table', () => {
  it('has no option that shadows a global one, by name or by short flag', () => {
    const globalShorts = Object.values(GLOBAL).flatMap((o) => ('short' in o ? [o.short] : []));
    for (const c of COMMANDS) {
      for (const [name, o] of Object.entries(c.options ?? {})) {
        expect([c.path.join(' '), name in GLOBAL]).toEqual([c.path.join(' '), false]);
        if (o.short) expect(globalShorts).not.toContain(o.short);
      }
    }
  });

  it('gives every command a summary and at least one example that uses it', () => {
    for (const c of COMMANDS) {
      expect(c.summary.length).toBeGreaterThan(10);
      expect(
        c.examples.some(
          (e) =>
            e.includes(`bldst ${c.path.join(' ')}`) || (c.alias && e.includes(`bldst ${c.alias.join(' ')}`)),
        ),
      ).toBe(true);
    }
  });

  it('names each command once', () => {
    const names = COMMANDS.flatMap((c) => [c.path.join(' '), ...(c.alias ? [c.alias.join(' ')] : [])]);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('docs/CLI.md and --help name the build argument alike', () => {
  // --help writes <build-id> (required) or [build-id] (optional: $BLDST_BUILD_ID inside bldst run);
  // CLI.md's command tables write ID and [ID] for the same.
  const doc = readFileSync(join(__dirname, '../../../docs/CLI.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `([a-z-]+(?: [a-z-]+)?) (\[?ID\]?)[ `]/gm)].map((m) => ({
    path: m[1]!,
    arg: m[2]!,
  }));

  it('finds the artifact commands in CLI.md', () => {
    expect(rows.map((r) => r.path)).toEqual(expect.arrayContaining(['artifact upload', 'artifact download']));
  });

  it.each(rows.map((r) => [r.path, r.arg]))('%s: CLI.md writes %s as --help does', (path, arg) => {
    const command = COMMANDS.find((c) => c.path.join(' ') === path || c.alias?.join(' ') === path);
    expect(command).toBeDefined();
    const first = command!.args?.split(' ')[0] ?? '';
    // <build-id>, <parent-build-id>: required; [build-id]: optional.
    const shape = /^<[a-z-]*build-id>$/.test(first) ? 'ID' : /^\[build-id\]$/.test(first) ? '[ID]' : first;
    expect([path, shape]).toEqual([path, arg]);
  });
});
