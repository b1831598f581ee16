/**
 * npm run lint:deps: the import rules of .dependency-cruiser.cjs (no cycles, type imports
 * included; functions compose their own services). Runs dependency-cruiser through its API, so
 * the violations are printed in one line each (a folder cycle with the imports that make its
 * first edge). dependency-cruiser stays at 17.x, the last major
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
const { summary, modules } = result.output;
/** The module imports that make a folder edge (a folder-scope violation names folders only). */
const importsBetween = (from, to) =>
  modules.flatMap((m) =>
    m.source.startsWith(`${from}/`)
      ? m.dependencies
          .filter((d) => d.resolved.startsWith(`${to}/`))
          .map((d) => `${m.source} → ${d.resolved}`)
      : [],
  );
for (const v of summary.violations) {
  const via = v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name ?? c).join(' → ')})` : '';
  console.error(`${v.rule.severity} ${v.rule.name}: ${v.from} → ${v.to}${via}`);
  if (v.rule.name === 'no-folder-cycle')
    for (const edge of importsBetween(v.from, v.to)) console.error(`    ${edge}`);
}
console.log(
  `dependency-cruiser: ${summary.totalCruised} modules, ${summary.totalDependenciesCruised} imports, ${summary.error} errors`,
);
process.exit(summary.error > 0 ? 1 : 0);
