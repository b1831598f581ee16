/**
 * Keyless sign-in from CI: with no key configured and BUILDSTATE_OIDC_AUDIENCE set (or --oidc),
 * bldst gets the job's OIDC token from the CI system or cloud it runs on, trades it for a
 * BuildState token (POST /auth/oidc), caches that token (mode 0600, per server, audience and job),
 * and gets a new one before it expires, so long `run` and `pipeline run` commands keep going.
 *
 * Where the job's token comes from, first match wins (docs/AUTH-CI.md):
 *  1. BUILDSTATE_OIDC_TOKEN_FILE: a file (Concourse's idtoken written out, a Kubernetes projected
 *     token), read again at each renewal
 *  2. GitHub Actions: ACTIONS_ID_TOKEN_REQUEST_URL + ACTIONS_ID_TOKEN_REQUEST_TOKEN (&audience=)
 *  3. GitLab: the variable named by BUILDSTATE_OIDC_TOKEN_ENV (default BUILDSTATE_ID_TOKEN)
 *  4. Buildkite (BUILDKITE=true): `buildkite-agent oidc request-token --audience A`
 *  5. CircleCI: CIRCLE_OIDC_TOKEN_V2
 *  6. GCP metadata server (GCE_METADATA_HOST, default metadata.google.internal): identity?audience=A
 *  7. Azure managed identity: IDENTITY_ENDPOINT + IDENTITY_HEADER (App Service, Functions,
 *     Container Apps), else IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST, default 169.254.169.254)
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Credential, configPath } from './config';
import { CliError, EXIT } from './errors';
import { httpCall } from './http';
import { tokenLifetime } from './session';

export type OidcCredential = Extract<Credential, { kind: 'bearer' }> & { oidc: { audience: string } };

/** The audience to ask for, if keyless sign-in applies; --oidc without one is a usage error. */
export function oidcAudience(asked: boolean, env = process.env): string | undefined {
  const audience = env.BUILDSTATE_OIDC_AUDIENCE?.trim();
  if (asked && !audience)
    throw new CliError(
      '--oidc needs BUILDSTATE_OIDC_AUDIENCE: the audience of your trust policy (docs/AUTH-CI.md)',
      EXIT.usage,
    );
  return audience || undefined;
}

const PROBE_TIMEOUT_MS = 2000;

async function get(url: string, headers: Record<string, string>, what: string): Promise<string> {
  let reply: Awaited<ReturnType<typeof httpCall>>;
  try {
    reply = await Promise.race([
      httpCall('GET', url, { 'user-agent': 'bldst', ...headers }),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('timed out')), PROBE_TIMEOUT_MS).unref(),
      ),
    ]);
  } catch (error) {
    throw new Error(`${what}: cannot reach ${new URL(url).host}: ${(error as Error).message}`);
  }
  if (reply.status !== 200) throw new Error(`${what} answered HTTP ${reply.status}`);
  return reply.body;
}

const jsonField = (body: string, field: string, what: string): string => {
  try {
    const value = JSON.parse(body)[field];
    if (typeof value === 'string' && value) return value;
  } catch {
    // Not JSON: said below.
  }
  throw new Error(`${what} answered without "${field}"`);
};

interface Source {
  name: string;
  applies: (env: NodeJS.ProcessEnv) => boolean;
  token: (audience: string, env: NodeJS.ProcessEnv) => Promise<string>;
}

const tokenEnvName = (env: NodeJS.ProcessEnv) => env.BUILDSTATE_OIDC_TOKEN_ENV || 'BUILDSTATE_ID_TOKEN';

const SOURCES: readonly Source[] = [
  {
    name: 'file (BUILDSTATE_OIDC_TOKEN_FILE)',
    applies: (env) => Boolean(env.BUILDSTATE_OIDC_TOKEN_FILE),
    token: async (_a, env) => {
      try {
        return readFileSync(env.BUILDSTATE_OIDC_TOKEN_FILE!, 'utf8').trim();
      } catch (error) {
        throw new Error(`cannot read BUILDSTATE_OIDC_TOKEN_FILE: ${(error as Error).message}`);
      }
    },
  },
  {
    name: 'GitHub Actions',
    applies: (env) => Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN),
    token: async (audience, env) => {
      const url = new URL(env.ACTIONS_ID_TOKEN_REQUEST_URL!);
      url.searchParams.set('audience', audience);
      const body = await get(
        url.toString(),
        { authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}`, accept: 'application/json' },
        'the GitHub Actions token endpoint',
      );
      return jsonField(body, 'value', 'the GitHub Actions token endpoint');
    },
  },
  {
    name: 'GitLab id_tokens',
    applies: (env) => Boolean(env[tokenEnvName(env)]),
    token: async (_a, env) => env[tokenEnvName(env)]!.trim(),
  },
  {
    name: 'Buildkite',
    applies: (env) => env.BUILDKITE === 'true',
    token: (audience) =>
      new Promise((resolve, reject) =>
        execFile(
          'buildkite-agent',
          ['oidc', 'request-token', '--audience', audience],
          { timeout: 30_000 },
          (error, stdout, stderr) =>
            error
              ? reject(
                  new Error(`buildkite-agent oidc request-token failed: ${stderr.trim() || error.message}`),
                )
              : resolve(stdout.trim()),
        ),
      ),
  },
  {
    name: 'CircleCI',
    applies: (env) => Boolean(env.CIRCLE_OIDC_TOKEN_V2),
    token: async (_a, env) => env.CIRCLE_OIDC_TOKEN_V2!.trim(),
  },
  {
    name: 'GCP metadata server',
    applies: () => true,
    token: async (audience, env) => {
      const host = env.GCE_METADATA_HOST || 'metadata.google.internal';
      const query = new URLSearchParams({ audience, format: 'full' });
      const url = `http://${host}/computeMetadata/v1/instance/service-accounts/default/identity?${query}`;
      return (await get(url, { 'metadata-flavor': 'Google' }, 'the GCP metadata server')).trim();
    },
  },
  {
    name: 'Azure managed identity',
    applies: () => true,
    token: async (audience, env) => {
      const clientId: Record<string, string> = env.AZURE_CLIENT_ID ? { client_id: env.AZURE_CLIENT_ID } : {};
      if (env.IDENTITY_ENDPOINT) {
        const url = new URL(env.IDENTITY_ENDPOINT);
        for (const [k, v] of Object.entries({ 'api-version': '2019-08-01', resource: audience, ...clientId }))
          url.searchParams.set(k, v);
        const body = await get(
          url.toString(),
          { 'x-identity-header': env.IDENTITY_HEADER ?? '' },
          'the Azure identity endpoint',
        );
        return jsonField(body, 'access_token', 'the Azure identity endpoint');
      }
      const host = (env.AZURE_POD_IDENTITY_AUTHORITY_HOST || 'http://169.254.169.254').replace(/\/+$/, '');
      const query = new URLSearchParams({ 'api-version': '2018-02-01', resource: audience, ...clientId });
      const body = await get(
        `${host}/metadata/identity/oauth2/token?${query}`,
        { metadata: 'true' },
        'Azure IMDS',
      );
      return jsonField(body, 'access_token', 'Azure IMDS');
    },
  },
];

/** The job's OIDC token for `audience`, from the first source that applies (the order above). */
export async function ciToken(
  audience: string,
  env = process.env,
): Promise<{ source: string; token: string }> {
  const tried: string[] = [];
  for (const source of SOURCES.filter((s) => s.applies(env))) {
    try {
      const token = await source.token(audience, env);
      if (token) return { source: source.name, token };
      tried.push(`${source.name}: empty token`);
    } catch (error) {
      tried.push((error as Error).message);
    }
    // An explicit source that fails is the answer: falling through would hide the mistake.
    if (!['GCP metadata server', 'Azure managed identity'].includes(source.name)) break;
  }
  throw new CliError(
    `cannot get this job's OIDC token (${tried.join('; ') || 'no CI system or cloud identity found'}); see docs/AUTH-CI.md`,
    EXIT.auth,
    'oidc_token',
  );
}

interface CachedToken {
  key: string;
  access_token: string;
  expires_at: string;
  policy: string;
}

/** One cache entry per server, audience and CI job: a shared runner never hands one job's token to another. */
function cacheKey(url: string, audience: string, env = process.env): string {
  const job = [
    env.GITHUB_RUN_ID,
    env.GITHUB_RUN_ATTEMPT,
    env.GITHUB_JOB,
    env.CI_JOB_ID,
    env.BUILDKITE_JOB_ID,
    env.CIRCLE_WORKFLOW_JOB_ID,
    env.BUILDSTATE_OIDC_TOKEN_FILE,
  ].join('|');
  return createHash('sha256').update(`${url}\n${audience}\n${job}`).digest('hex');
}

const cachePath = () => join(dirname(configPath()), 'oidc-session.json');

function readCache(key: string): CachedToken | undefined {
  try {
    const cached = JSON.parse(readFileSync(cachePath(), 'utf8')) as CachedToken;
    return cached.key === key ? cached : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(entry: CachedToken): void {
  const file = cachePath();
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, `${JSON.stringify(entry)}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, file);
  } catch {
    // A cache: the next command exchanges again.
    rmSync(file, { force: true });
  }
}

/** Renew when less than a third of the token's life is left (10 s to 5 min before expiry). */
export function oidcNeedsRenewal(c: { value: string; expiresAt?: string }, now = Date.now()): boolean {
  if (!c.value || !c.expiresAt) return true;
  const life = tokenLifetime(c.value) ?? 900;
  return Date.parse(c.expiresAt) - now <= Math.max(10, Math.min(300, life / 3)) * 1000;
}

/** A BuildState token for this job: the cached one while it is fresh, else a new exchange. */
export async function oidcSignIn(
  url: string,
  audience: string,
  force = false,
  given?: string,
): Promise<OidcCredential> {
  const key = cacheKey(url, audience);
  const cached = force || given ? undefined : readCache(key);
  if (cached) {
    const c: OidcCredential = {
      kind: 'bearer',
      value: cached.access_token,
      expiresAt: cached.expires_at,
      oidc: { audience },
    };
    if (!oidcNeedsRenewal(c)) return c;
  }
  const { token, source } = given ? { token: given, source: 'the given token' } : await ciToken(audience);
  let reply: Awaited<ReturnType<typeof httpCall>>;
  try {
    reply = await httpCall(
      'POST',
      `${url}/auth/oidc`,
      { 'content-type': 'application/json', 'user-agent': 'bldst' },
      JSON.stringify({ token }),
    );
  } catch (error) {
    throw new CliError(
      `cannot sign in with OIDC: cannot reach ${url}: ${(error as Error).message}`,
      EXIT.server,
      'network',
    );
  }
  let body: {
    access_token?: string;
    expires_at?: string;
    policy?: string;
    error?: { message?: string; details?: { reason?: string } };
  };
  try {
    body = JSON.parse(reply.body);
  } catch {
    body = {};
  }
  if (reply.status !== 200 || !body.access_token || !body.expires_at)
    throw new CliError(
      `the OIDC token from ${source} was refused: ${body.error?.message ?? `HTTP ${reply.status}`}${body.error?.details?.reason ? ` (${body.error.details.reason})` : ''}`,
      reply.status >= 500 ? EXIT.server : EXIT.auth,
      'oidc_refused',
    );
  writeCache({
    key,
    access_token: body.access_token,
    expires_at: body.expires_at,
    policy: body.policy ?? '',
  });
  return { kind: 'bearer', value: body.access_token, expiresAt: body.expires_at, oidc: { audience } };
}
