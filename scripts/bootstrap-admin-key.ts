/**
 * npm run bootstrap:admin-key — the first admin API key of a deployed table (or any table).
 * Uses your AWS credentials and BUILDSTATE_TABLE_NAME (the stack output TableName).
 * With BUILDSTATE_BOOTSTRAP_ADMIN_KEY set, that exact value becomes an admin key; otherwise a key
 * is generated once per table and printed once (only its hash is stored). It also creates the
 * `default` project, so builds that name no project work from the start. With `--sample-data`
 * (`npm run bootstrap:admin-key -- --sample-data`) it also creates the sample reference data of
 * lib/reference/sample-data.ts (what a fresh `npm start` has), skipping items that exist.
 */
import { SYSTEM_PRINCIPAL } from '../lib/auth/principal';
import { ensureSampleData } from '../lib/reference/sample-data';
import { services } from '../lib/runtime';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--sample-data');
if (unknown.length) {
  console.error(`unknown option ${unknown[0]}; usage: npm run bootstrap:admin-key [-- --sample-data]`);
  process.exit(2);
}
const result = await services().apiKeys.ensureBootstrapAdminKey(
  process.env.BUILDSTATE_BOOTSTRAP_ADMIN_KEY || undefined,
);
await services().references.ensureDefaultProject(SYSTEM_PRINCIPAL);
if (!result) {
  console.log(
    'An admin key was already generated for this table (only its hash is kept). Set BUILDSTATE_BOOTSTRAP_ADMIN_KEY to add one you choose.',
  );
} else if (result.generated) {
  console.log(`admin API key: ${result.secret}\n(shown once: store it in your secret manager now)`);
} else {
  console.log('BUILDSTATE_BOOTSTRAP_ADMIN_KEY is now an admin key of this table.');
}
if (args.includes('--sample-data')) {
  const created = await ensureSampleData(services().references, SYSTEM_PRINCIPAL);
  console.log(`sample data: created ${created} reference items (existing ones left as they were)`);
}
