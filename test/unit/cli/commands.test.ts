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
