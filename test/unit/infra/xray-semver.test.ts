/**
 * The esbuild plugin that gives the X-Ray SDK semver's `gte` instead of all of semver
 * (infra/bundling/xray-semver.ts): the installed X-Ray SDK calls no other semver function, and a
 * bundle of it made with the plugin drops semver's other modules while `gte` still decides.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { XRAY_SEMVER_FUNCTIONS, xraySemver } from '../../../infra/bundling/xray-semver';

const XRAY = join('node_modules', 'aws-xray-sdk-core', 'dist', 'lib');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.js') ? [path] : [];
  });
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'xray-semver-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** aws-xray-sdk-core bundled for Node (CommonJS), with or without the plugin. */
async function bundle(withPlugin: boolean): Promise<{ file: string; inputs: string[] }> {
  const file = join(work, withPlugin ? 'with.cjs' : 'without.cjs');
  const result = await build({
    stdin: { contents: "module.exports = require('aws-xray-sdk-core');", resolveDir: process.cwd() },
    outfile: file,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'cjs',
    metafile: true,
    logLevel: 'error',
    plugins: withPlugin ? [xraySemver()] : [],
  });
  return { file, inputs: Object.keys((result.metafile as Metafile).inputs) };
}

describe('xray-semver', () => {
  it('covers every semver function the installed X-Ray SDK calls', () => {
    const called = new Set<string>();
    let requires = 0;
    for (const path of sources(XRAY)) {
      const text = readFileSync(path, 'utf8');
      for (const m of text.matchAll(/(\w+)\s*=\s*require\(\s*['"]semver(\/[^'"]*)?['"]\s*\)/g)) {
        requires++;
        // A deep import (semver/functions/x) would not go through the plugin: name it as called.
        if (m[2]) called.add(m[2]);
        for (const use of text.matchAll(new RegExp(`\\b${m[1]}\\.(\\w+)`, 'g'))) called.add(use[1]!);
      }
    }
    expect(requires).toBeGreaterThan(0);
    expect([...called].sort()).toEqual([...XRAY_SEMVER_FUNCTIONS].sort());
  });

  it("drops semver's other modules from a bundle, and the X-Ray SDK's version check still decides", async () => {
    const without = await bundle(false);
    const withIt = await bundle(true);
    const semverIndex = /[\\/]semver[\\/]index\.js$/;
    const semverRange = /[\\/]semver[\\/]classes[\\/]range\.js$/;
    // Control: without the plugin the whole package is in.
    expect(without.inputs.some((p) => semverIndex.test(p))).toBe(true);
    expect(without.inputs.some((p) => semverRange.test(p))).toBe(true);
    expect(withIt.inputs.some((p) => semverIndex.test(p) || semverRange.test(p))).toBe(false);
    expect(withIt.inputs.some((p) => /[\\/]semver[\\/]functions[\\/]gte\.js$/.test(p))).toBe(true);
    expect(statSync(without.file).size - statSync(withIt.file).size).toBeGreaterThan(15_000);

    // captureAWS refuses an AWS SDK v2 older than 2.7.15 through semver.gte, and takes 2.7.15.
    const out = execFileSync(
      process.execPath,
      [
        '-e',
        `const x = require(${JSON.stringify(withIt.file)});
         try { x.captureAWS({ VERSION: '2.7.14' }); console.log('accepted'); } catch (e) { console.log(e.message); }
         console.log(JSON.stringify(x.captureAWS({ VERSION: '2.7.15' })));`,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR' } },
    ).trim();
    expect(out.split('\n')).toEqual(['AWS SDK version 2.7.15 or greater required.', '{"VERSION":"2.7.15"}']);
  });
});
