/**
 * An esbuild plugin that keeps all of `semver` (~29 KB minified, every bundle) out of the Lambdas
 * for the one function the X-Ray SDK calls.
 *
 * Powertools' tracer loads `aws-xray-sdk-core`, whose AWS SDK v2 patcher
 * (`dist/lib/patchers/aws_p.js`) does `require('semver')` for a single `semver.gte(…)`; esbuild
 * cannot tree-shake a CommonJS `require`, so the whole package rides along. This plugin answers
 * that one `require('semver')`, from inside aws-xray-sdk-core only, with
 * `{ gte: require('semver/functions/gte') }`: semver's own published `gte`, from the same copy
 * the X-Ray SDK depends on (resolved from the X-Ray SDK's folder), nothing written here. Every
 * other `semver` import in a bundle resolves as before.
 *
 * test/unit/infra/xray-semver.test.ts reads the installed X-Ray SDK and fails if it calls any
 * other semver function (then this plugin must go or grow), and checks a bundle keeps `gte`
 * working and drops the rest.
 */
import { dirname } from 'node:path';
import type { Plugin } from 'esbuild';

/** The semver functions the X-Ray SDK calls (the test keeps this list true). */
export const XRAY_SEMVER_FUNCTIONS = ['gte'] as const;

const FROM_XRAY = /[\\/]node_modules[\\/]aws-xray-sdk-core[\\/]/;

export function xraySemver(): Plugin {
  return {
    name: 'xray-semver',
    setup(build) {
      build.onResolve({ filter: /^semver$/ }, (args) =>
        FROM_XRAY.test(args.importer)
          ? { path: args.importer, namespace: 'xray-semver', pluginData: dirname(args.importer) }
          : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: 'xray-semver' }, (args) => ({
        contents: `module.exports = { ${XRAY_SEMVER_FUNCTIONS.map((f) => `${f}: require('semver/functions/${f}')`).join(', ')} };`,
        resolveDir: args.pluginData as string,
        loader: 'js',
      }));
    },
  };
}
