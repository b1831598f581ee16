/**
 * A control for `npm run lint:deps`: the rules of .dependency-cruiser.cjs, run on a small tree
 * with a cycle between two lib/ folders made by a type import and no cycle between modules, must
 * report it as no-folder-cycle (and only that). dependency-cruiser is ESM-only, so it runs in a
 * child node process.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '../../..');

/** Run from the repository (so 'dependency-cruiser' resolves), on the tree in the directory given. */
const cruiseScript = `
import { createRequire } from 'node:module';
import { cruise } from 'dependency-cruiser';
const config = createRequire(import.meta.url)('./.dependency-cruiser.cjs');
const { tsConfig, ...options } = config.options;
const result = await cruise(['lib'], {
  ...options,
  baseDir: process.argv[1],
  validate: true,
  ruleSet: { forbidden: config.forbidden },
});
const violations = result.output.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
process.stdout.write(JSON.stringify(violations));
`;

describe('lint:deps rules', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dep-rules-'));
    const file = (path: string, text: string) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    // lib/a/x → lib/b/y → (type only) lib/a/z: no module cycle, but a cycle between lib/a and lib/b.
    file('lib/a/x.ts', "import { y } from '../b/y';\nexport const x = y + 1;\n");
    file('lib/a/z.ts', 'export type Z = number;\n');
    file('lib/b/y.ts', "import type { Z } from '../a/z';\nexport const y: Z = 1;\n");
    file('tsconfig.json', '{"compilerOptions":{"strict":true,"module":"commonjs"}}\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a cycle between lib/ folders made by a type import as no-folder-cycle', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', cruiseScript, dir], {
      cwd: repo,
      encoding: 'utf8',
    });
    const violations = JSON.parse(out) as Array<{ rule: string; from: string; to: string }>;
    expect(violations).toEqual(
      expect.arrayContaining([
        { rule: 'no-folder-cycle', from: 'lib/a', to: 'lib/b' },
        { rule: 'no-folder-cycle', from: 'lib/b', to: 'lib/a' },
      ]),
    );
    expect(violations.every((v) => v.rule === 'no-folder-cycle')).toBe(true);
  });
});

describe('lint:deps rules: HTTP stays in lib/http', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dep-rules-http-'));
    const file = (path: string, text: string) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    // A service that reaches for the HTTP wrapper, and a wrapper that parses with a domain schema;
    // a route table that names a domain schema, which is allowed (no folder cycle in this tree).
    file('lib/builds/build.service.ts', "import { ok } from '../http/handler';\nexport const s = ok;\n");
    file('lib/leases/lease.schema.ts', 'export const leaseIdSchema = 1;\n');
    file(
      'lib/http/handler.ts',
      "import { leaseIdSchema } from '../leases/lease.schema';\nexport const ok = leaseIdSchema;\n",
    );
    file(
      'lib/http/states.routes.ts',
      "import { leaseIdSchema } from '../leases/lease.schema';\nexport const r = leaseIdSchema;\n",
    );
    file('tsconfig.json', '{"compilerOptions":{"strict":true,"module":"commonjs"}}\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a service importing lib/http and the wrapper importing a domain schema, not a route table', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', cruiseScript, dir], {
      cwd: repo,
      encoding: 'utf8',
    });
    const violations = JSON.parse(out) as Array<{ rule: string; from: string; to: string }>;
    expect(violations).toEqual([
      { rule: 'http-stays-in-lib-http', from: 'lib/builds/build.service.ts', to: 'lib/http/handler.ts' },
      {
        rule: 'http-wrapper-knows-no-domain-schemas',
        from: 'lib/http/handler.ts',
        to: 'lib/leases/lease.schema.ts',
      },
    ]);
  });
});
