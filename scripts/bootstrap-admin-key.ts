/**
 * npm run bootstrap:admin-key — the first admin API key of a deployed table (or any table).
 * Uses your AWS credentials and BUILDSTATE_TABLE_NAME (the stack output TableName).
 * With BUILDSTATE_BOOTSTRAP_ADMIN_KEY set, that exact value becomes an admin key; otherwise a key
 * is generated once per table and printed once (only its hash is stored). It also creates the
 * `default` project, so builds that name no project work from the start.
 */
import { SYSTEM_PRINCIPAL } from '../lib/auth/principal';
import { services } from '../lib/runtime';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
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
