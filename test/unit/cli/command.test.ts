/**
 * What `defineCommand` promises, checked twice: by `npm run typecheck` (which compiles this file:
 * every `@ts-expect-error` below must meet an error, or tsc fails) and by jest at run time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, type Ctx, defineCommand, stateOpt } from '../../../cli/command';
import { COMMANDS } from '../../../cli/commands';

const ctx = {} as Ctx;

describe('defineCommand', () => {
  it('hands run its own options, typed, and refuses at compile time a read of one it did not declare', async () => {
    const seen: unknown[] = [];
    const command = defineCommand({
      path: ['example'],
      summary: 'an example command',
      options: {
        state: stateOpt,
        all: { type: 'boolean', description: 'everything' },
        child: { type: 'string', multiple: true, description: 'repeatable' },
      },
      examples: ['bldst example'],
      async run(_ctx, v) {
        const state: string | undefined = v.state;
        const all: boolean | undefined = v.all;
        const children: string[] | undefined = v.child;
        // @ts-expect-error: --name is not an option of this command
        seen.push(v.name);
        // @ts-expect-error: nor by its quoted name
        seen.push(v['part-size']);
        // @ts-expect-error: a string option is not a boolean
        const wrong: boolean | undefined = v.state;
        seen.push(state, all, children, wrong);
        return 0;
      },
    });
    const code = await command.run(ctx, { state: '10', all: true, child: ['a', 'b'] }, [], []);
    expect(code).toBe(0);
    expect(seen).toEqual([undefined, undefined, '10', true, ['a', 'b'], '10']);
  });

  it('is the only way to make a Command: a literal with an untyped run does not compile', () => {
    const untyped = {
      path: ['untyped'],
      summary: 'reads whatever it likes',
      examples: ['bldst untyped'],
      run: async (_ctx: Ctx, v: Record<string, unknown>) => (v.anything ? 0 : 1),
    };
    // @ts-expect-error: a Command is branded; only defineCommand makes one
    const command: Command = untyped;
    expect(command.path).toEqual(['untyped']);
  });

  it('leaves no command file reading options as untyped values (casts, the Values type)', () => {
    const dir = join(__dirname, '../../../cli');
    const files = readdirSync(dir).filter((f) => /^commands(-[\w-]+)?\.ts$/.test(f));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      const untyped = text
        .split('\n')
        .filter((l) => /\bstr\(v\b|\bv(\.[\w]+|\['[\w-]+'\]) as (string|boolean)|\bValues\b/.test(l));
      expect([f, untyped]).toEqual([f, []]);
    }
    // Each command of the table went through defineCommand's typing (a literal would not compile).
    expect(COMMANDS.length).toBeGreaterThan(70);
  });
});
