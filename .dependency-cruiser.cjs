/**
 * Import rules `npm test` enforces (npm run lint:deps). Type-only imports count
 * (tsPreCompilationDeps): a cycle through `import type` is still a cycle between modules.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type imports included: compose one level up instead (lib/db/transaction.ts).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment:
        'No cycles between lib/ folders, type imports included: a folder depends on the ones below it; declare a port where a lower folder needs an upper one, and wire it in lib/compose.',
      scope: 'folder',
      from: { path: '^lib/[^/]+' },
      to: { circular: true },
    },
    {
      name: 'functions-compose-their-own',
      severity: 'error',
      comment:
        'A Lambda imports only the lib/compose factories its routes use; lib/runtime.ts builds every service (local gateway, scripts, tests).',
      from: { path: '^functions/' },
      to: { path: '^lib/runtime\\.ts$' },
    },
    {
      name: 'builds-know-no-dashboard',
      severity: 'error',
      comment: 'The build repository knows builds and the transaction composer, nothing of leases or dashboards.',
      from: { path: '^lib/builds/build\\.repository\\.ts$' },
      to: { path: '^lib/(dashboard|leases|events)/' },
    },
    {
      name: 'lib-is-no-adapter',
      severity: 'error',
      comment: 'lib/ holds the rules and data access; functions/, local/ and infra/ depend on it, never the reverse.',
      from: { path: '^lib/' },
      to: { path: '^(functions|local|infra|cli|bench|scripts|test)/' },
    },
    {
      name: 'http-stays-in-lib-http',
      severity: 'error',
      comment:
        'Services and the rest of lib/ return domain results and throw AppError; only lib/http knows routes and status codes (its route table maps outcomes to statuses).',
      from: { path: '^lib/', pathNot: '^lib/http/' },
      to: { path: '^lib/http/' },
    },
    {
      name: 'http-wrapper-knows-no-domain-schemas',
      severity: 'error',
      comment:
        "The HTTP wrapper validates with what the route it serves declares (path parameters, body, query): it imports no domain's *.schema.ts. Route tables (lib/http/*.routes.ts, path-params.ts) do.",
      from: { path: '^lib/http/(handler|http|route|dispatch)\\.ts$' },
      to: { path: '^lib/(?!http/)[^/]+/.+\\.schema\\.ts$' },
    },
    {
      name: 'lambdas-on-zod-mini',
      severity: 'error',
      comment:
        'Lambda code takes zod from lib/zod.ts (zod/mini with the English messages of classic zod): classic zod is ~57 KB more per bundle and slower to import.',
      from: { path: '^(lib|functions)/', pathNot: '^lib/zod\\.ts$' },
      to: { path: '(^|/)node_modules/zod/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|cdk\\.out|\\.build)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
