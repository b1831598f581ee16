/**
 * The esbuild plugin that makes the SDK schemas' computed keys literal (infra/bundling/sdk-literal-keys.ts):
 * what it rewrites, what it leaves alone, and that esbuild then drops an unused schema it kept before.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';
import { literalKeys, SDK_SCHEMA_FILES, sdkLiteralKeys } from '../../../infra/bundling/sdk-literal-keys';

/** Whether `code` parses as a module without a syntax error. */
const parses = (code: string) =>
  (
    ts.createSourceFile('out.js', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS) as unknown as {
      parseDiagnostics: unknown[];
    }
  ).parseDiagnostics.length === 0;

describe('literalKeys', () => {
  it('rewrites a computed key bound to a top-level const string into that literal key', () => {
    const source = [
      'const _hC = "httpChecksum";',
      'const _h = "http";',
      'const _x = "x-amz-meta";',
      'export var Op$ = [9, "n0", { [_hC]: "-", [_h]: ["POST", "/?x", 200] }, { [_x]: 1 }];',
    ].join('\n');
    const { code, rewritten } = literalKeys(ts, source);
    expect(rewritten).toBe(3);
    expect(code).toContain('{ "httpChecksum": "-", "http": ["POST", "/?x", 200] }');
    expect(code).toContain('{ "x-amz-meta": 1 }');
    // The constants themselves and every other use of them stay as they were.
    expect(code).toContain('const _hC = "httpChecksum";');
    expect(parses(code)).toBe(true);
    // The same values, key for key.
    const run = (js: string) => new Function(`${js.replace('export var', 'var')}; return Op$;`)();
    expect(run(code)).toEqual(run(source));
  });

  it('leaves alone a key bound to a let, an import, a number, a shadowed name or a computed expression', () => {
    const source = [
      'import { _i } from "./names";',
      'let _l = "mutable";',
      'const _n = 3;',
      'const _s = "shadowed";',
      'const _t = `template`;',
      'const _k = "kept";',
      'function f(_s) { return { [_s]: 1 }; }',
      'export var A$ = { [_i]: 1, [_l]: 2, [_n]: 3, [_s]: 4, [_t]: 5, [_k + "x"]: 6, ["lit"]: 7, [_k]: 8 };',
      'export var B$ = [_k, _s];',
    ].join('\n');
    const { code, rewritten } = literalKeys(ts, source);
    expect(rewritten).toBe(1);
    expect(code).toBe(source.replace('[_k]: 8', '"kept": 8'));
    expect(parses(code)).toBe(true);
  });

  it('never turns __proto__ into a literal key (that would set the prototype instead)', () => {
    const source = 'const _p = "__proto__";\nexport var P$ = { [_p]: { polluted: true } };';
    expect(literalKeys(ts, source)).toEqual({ code: source, rewritten: 0 });
  });

  it('returns a file without such keys unchanged (an SDK that ships the upstream fix)', () => {
    const source = 'const _h = "http";\nexport var Op$ = [9, "n0", { http: ["GET", "/", 200] }, _h];\n';
    expect(literalKeys(ts, source)).toEqual({ code: source, rewritten: 0 });
  });

  it('the installed S3 client still has computed keys: delete the plugin when this fails', () => {
    const file = require.resolve('@aws-sdk/client-s3/dist-es/schemas/schemas_0.js');
    expect(file).toMatch(SDK_SCHEMA_FILES);
    const source = readFileSync(file, 'utf8');
    const { code, rewritten } = literalKeys(ts, source);
    expect(rewritten).toBeGreaterThan(100);
    expect(code).not.toMatch(/\{ \[_[A-Za-z0-9_]+\]:/);
    expect(parses(code)).toBe(true);
  });
});

describe('sdkLiteralKeys (esbuild plugin)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bs-literal-keys-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A miniature client: two schemas with computed keys, of which the entry uses one.
  const schemas = join(dir, 'node_modules/@aws-sdk/client-demo/dist-es/schemas/schemas_0.js');
  mkdirSync(join(schemas, '..'), { recursive: true });
  writeFileSync(
    schemas,
    [
      'const _h = "http";',
      'export var UsedOperation$ = [9, "n0", { [_h]: ["GET", "/used", 200] }];',
      'export var UnusedOperation$ = [9, "n0", { [_h]: ["PUT", "/UnusedOperationPath", 200] }];',
    ].join('\n'),
  );
  const entry = join(dir, 'entry.js');
  writeFileSync(
    entry,
    'import { UsedOperation$ } from "@aws-sdk/client-demo/dist-es/schemas/schemas_0.js";\nconsole.log(UsedOperation$);\n',
  );
  const cache = join(dir, 'cache');
  const bundle = async (plugins: ReturnType<typeof sdkLiteralKeys>[]) => {
    const r = await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      minify: true,
      write: false,
      plugins,
      absWorkingDir: dir,
      logLevel: 'silent',
    });
    return r.outputFiles[0]!.text;
  };

  it('lets esbuild drop the schema the entry does not use, which it keeps without the plugin', async () => {
    const without = await bundle([]);
    const withPlugin = await bundle([sdkLiteralKeys(cache)]);
    expect(without).toContain('/UnusedOperationPath');
    expect(withPlugin).not.toContain('/UnusedOperationPath');
    expect(withPlugin).toContain('/used');
  });

  it('keeps each rewritten file in its cache, and bundles the same from it', async () => {
    const first = await bundle([sdkLiteralKeys(cache)]);
    const [entry, ...others] = readdirSync(cache);
    expect(others).toEqual([]);
    expect(readFileSync(join(cache, entry!), 'utf8')).toContain('{ "http": ["GET", "/used", 200] }');
    // A cached file is what is bundled (the source is not read through the rewrite again).
    writeFileSync(
      join(cache, entry!),
      readFileSync(join(cache, entry!), 'utf8').replace('/used', '/from-cache'),
    );
    const second = await bundle([sdkLiteralKeys(cache)]);
    expect(second).toBe(first.replace('/used', '/from-cache'));
  });
});
