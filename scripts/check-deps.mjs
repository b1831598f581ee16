/**
 * npm run lint:deps: the import rules of .dependency-cruiser.cjs (no cycles, type imports
 * included; functions compose their own services). Runs dependency-cruiser through its API, so
 * the violations are printed in one line each. dependency-cruiser stays at 17.x, the last major
 * that supports Node 20 (18 needs Node 22), which this project supports.
 */
import { createRequire } from 'node:module';
import { cruise } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const require = createRequire(import.meta.url);
const config = require('../.dependency-cruiser.cjs');
const roots = ['lib', 'functions', 'infra', 'local', 'scripts', 'bench', 'test', 'cli', 'web'];
const result = await cruise(
  roots,
  { ...config.options, validate: true, ruleSet: { forbidden: config.forbidden } },
  undefined,
  { tsConfig: extractTSConfig('tsconfig.json') },
);
const { summary } = result.output;
for (const v of summary.violations) {
  const via = v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name ?? c).join(' → ')})` : '';
  console.error(`${v.rule.severity} ${v.rule.name}: ${v.from} → ${v.to}${via}`);
}
console.log(
  `dependency-cruiser: ${summary.totalCruised} modules, ${summary.totalDependenciesCruised} imports, ${summary.error} errors`,
);
process.exit(summary.error > 0 ? 1 : 0);
