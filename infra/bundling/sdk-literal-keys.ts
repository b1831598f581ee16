/**
 * An esbuild plugin that lets esbuild drop the AWS SDK v3 operation schemas a function never uses.
 *
 * Each client's generated `dist-es/schemas/*.js` holds one `export var X$ = [...]` per shape and
 * operation, whose trait objects use computed keys bound to file-level string constants:
 * `{ [_hC]: "-", [_h]: ["POST", "/?metadataConfiguration", 200] }` with `const _hC = "httpChecksum"`.
 * esbuild counts a computed key as possibly side-effectful (it could call a `toString`), so it keeps
 * every one of those exports, used or not: all of S3's operations (~65 KB minified) ride in every
 * bundle with the S3 client. This plugin rewrites each such key into the literal key it stands for,
 * `{ "httpChecksum": "-", … }`, exactly what the codegen fix emits, and esbuild then tree-shakes the
 * schemas like any other pure export.
 *
 * Upstream: aws/aws-sdk-js-v3#7607 (the bug, open), smithy-lang/smithy-typescript#1889 (the codegen
 * fix: literal keys, open), evanw/esbuild#4373 (esbuild's side, open). DELETE THIS PLUGIN when the
 * SDK clients we pin ship schemas with literal keys: it then finds nothing to rewrite, returns every
 * file unchanged, and test/unit/infra/sdk-literal-keys.test.ts's check on the installed S3 client
 * ("the installed S3 client still has computed keys") fails to say so.
 *
 * Done with TypeScript's parser, not a regex: only a `ComputedPropertyName` whose expression is an
 * identifier declared once in the file, by a top-level `const` initialised with a string literal,
 * is rewritten. A key bound to anything else (a `let`, an import, a number, a shadowed name) and
 * every other use of the constants are left as they are. `__proto__` is never made literal: as a
 * literal key it would set the object's prototype instead of defining a property.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plugin } from 'esbuild';
import type * as TS from 'typescript';

/** The generated schema modules of the SDK v3 clients (ESM build), on any platform's separators. */
export const SDK_SCHEMA_FILES = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/][^\\/]+\.js$/;

/** The rewrite itself: `source` with its computed const-string keys made literal (unchanged if none). */
export function literalKeys(
  ts: typeof TS,
  source: string,
  fileName = 'schemas.js',
): { code: string; rewritten: number } {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const constants = new Map<string, string>();
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    if (!(statement.declarationList.flags & ts.NodeFlags.Const)) continue;
    for (const d of statement.declarationList.declarations)
      if (ts.isIdentifier(d.name) && d.initializer && ts.isStringLiteral(d.initializer))
        constants.set(d.name.text, d.initializer.text);
  }
  if (constants.size === 0) return { code: source, rewritten: 0 };

  // A name bound more than once anywhere in the file (a parameter, an inner variable, an import …)
  // might not mean the constant where it is used: leave such names alone.
  const bindings = new Map<string, number>();
  const bind = (name: TS.Node | undefined) => {
    if (name && ts.isIdentifier(name)) bindings.set(name.text, (bindings.get(name.text) ?? 0) + 1);
  };
  const edits: { start: number; end: number; text: string }[] = [];
  const visit = (node: TS.Node): void => {
    if (
      ts.isVariableDeclaration(node) ||
      ts.isParameter(node) ||
      ts.isBindingElement(node) ||
      ts.isFunctionDeclaration(node) ||
      ts.isFunctionExpression(node) ||
      ts.isClassDeclaration(node) ||
      ts.isClassExpression(node) ||
      ts.isImportSpecifier(node) ||
      ts.isNamespaceImport(node) ||
      ts.isImportClause(node)
    )
      bind(node.name);
    if (ts.isComputedPropertyName(node) && ts.isIdentifier(node.expression)) {
      const value = constants.get(node.expression.text);
      if (value !== undefined && value !== '__proto__')
        edits.push({ start: node.getStart(file), end: node.getEnd(), text: JSON.stringify(value) });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);

  const kept = edits.filter((e) => bindings.get(source.slice(e.start + 1, e.end - 1).trim()) === 1);
  if (kept.length === 0) return { code: source, rewritten: 0 };
  let code = '';
  let at = 0;
  for (const e of kept.sort((a, b) => a.start - b.start)) {
    code += source.slice(at, e.start) + e.text;
    at = e.end;
  }
  return { code: code + source.slice(at), rewritten: kept.length };
}

/**
 * The plugin: onLoad of the clients' schema modules, the rewrite above. Each rewritten file is kept
 * in `cacheDir` under the hash of its source and of the rewrite's own code, so TypeScript (about a
 * second to load and parse, paid by every function's bundling process) is loaded only on a miss:
 * once per SDK upgrade, not once per function and synth.
 */
export function sdkLiteralKeys(
  cacheDir = join(process.cwd(), '.build', 'cache', 'sdk-literal-keys'),
): Plugin {
  return {
    name: 'sdk-literal-keys',
    setup(build) {
      let ts: typeof TS | undefined;
      build.onLoad({ filter: SDK_SCHEMA_FILES }, async ({ path }) => {
        const source = await readFile(path, 'utf8');
        const key = createHash('sha256')
          .update(literalKeys.toString())
          .update('\0')
          .update(source)
          .digest('hex');
        const cached = join(cacheDir, `${key}.js`);
        const hit = await readFile(cached, 'utf8').catch(() => undefined);
        if (hit !== undefined) return { contents: hit, loader: 'js' };
        ts ??= ((await import('typescript')) as { default: typeof TS }).default;
        const { code } = literalKeys(ts, source, path);
        // Written whole under a temporary name, then renamed: concurrent bundlings never read half a file.
        await mkdir(cacheDir, { recursive: true });
        const temp = `${cached}.${process.pid}.${Date.now()}`;
        await writeFile(temp, code);
        await rename(temp, cached);
        return { contents: code, loader: 'js' };
      });
    },
  };
}
