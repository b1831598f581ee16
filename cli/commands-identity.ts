/**
 * Who may call: users (`user`), a user's API tokens (`token`: keys that belong to the user and
 * never outgrow them), keys of no one (`api-key`), and `auth login` for a user's short-lived JWT.
 */
import { randomBytes } from 'node:crypto';
import { Client } from './client';
import { type Command, compact, defineCommand, one, seg, show } from './command';
import { configPath, writeConfigFile } from './config';
import { EXIT, usage } from './errors';
import { type Column, col, duration, paint, printJson, printRecord, printTable } from './output';

type KeyView = Record<string, unknown> & { id: string; secret?: string; owner: string | null };
type UserView = Record<string, unknown> & { username: string };

const SCOPE_WORDS = ['read', 'write', 'admin'];

function scopes(value: string | undefined, fallback?: string[]): string[] | undefined {
  if (value === undefined) return fallback;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = list.find((s) => !SCOPE_WORDS.includes(s));
  if (bad || list.length === 0)
    throw usage(`--scopes is a comma-separated list of ${SCOPE_WORDS.join(', ')}`);
  return list;
}

const KEY_COLUMNS: Column<KeyView>[] = [
  col('id', 'ID', { min: 19 }),
  col('owner', 'OWNER'),
  col('name', 'NAME'),
  { header: 'SCOPES', value: (k) => (k.scopes as string[]).join(',') },
  col('secret_hint', 'HINT'),
  col('created_at', 'CREATED', { drop: 2 }),
  col('last_used_at', 'LAST USED', { drop: 1 }),
  col('expires_at', 'EXPIRES', { drop: 3 }),
  { header: 'ACTIVE', value: (k) => (k.active ? 'yes' : 'no'), paint: (k) => (k.active ? undefined : 'dim') },
];

const expiresOpt = {
  type: 'string',
  description: 'when it stops working (ISO 8601, e.g. 2027-06-30T00:00:00Z; default: never)',
} as const;

/** A new key's view, with its secret shown once. */
function showNewKey(ctx: Parameters<Command['run']>[0], key: KeyView, what: string): void {
  if (ctx.quiet) process.stdout.write(`${key.secret}\n`);
  else if (ctx.output === 'json') printJson(key);
  else {
    printRecord(key, ctx.style);
    process.stderr.write(
      `${paint(ctx.style, 'bold', `the ${what} is shown only now: store it in your secret manager`)}\n`,
    );
  }
}

async function listKeys(ctx: Parameters<Command['run']>[0], query: URLSearchParams, onlyOwned: boolean) {
  const items = (
    await ctx.client().get<{ items: KeyView[] }>(`/api-keys${query.size ? `?${query}` : ''}`)
  ).items.filter((k) => !onlyOwned || k.owner);
  if (ctx.quiet) for (const k of items) process.stdout.write(`${k.id}\n`);
  else if (ctx.output === 'json') printJson(items);
  else
    printTable(items, KEY_COLUMNS, ctx.style, {
      wide: ctx.wide,
      empty: onlyOwned ? 'no tokens' : 'no API keys',
    });
}

/** A password for a new user: typed twice on a terminal, read from stdin, or generated and shown once. */
async function newPassword(
  fromStdin: boolean | undefined,
): Promise<{ password: string; generated: boolean }> {
  const { readSecret } = await import('./prompt');
  if (fromStdin) return { password: await readSecret(''), generated: false };
  if (process.stdin.isTTY) {
    const password = await readSecret('Password (12 characters or more): ');
    if ((await readSecret('Password again: ')) !== password) throw usage('the passwords differ');
    return { password, generated: false };
  }
  return { password: randomBytes(18).toString('base64url'), generated: true };
}

export const IDENTITY_COMMANDS: Command[] = [
  defineCommand({
    path: ['auth', 'login'],
    summary:
      'Log in as a user: store a short-lived token (sent as Authorization: Bearer) and the refresh token that renews it in the config file',
    options: {
      username: { type: 'string', description: 'the user (default: asked for)' },
      'password-stdin': { type: 'boolean', description: 'read the password from stdin' },
      ttl: { type: 'string', description: "token lifetime in seconds (60-3600; default: the server's, 900)" },
    },
    examples: [
      'bldst auth login',
      'printf "%s\\n" "$PASSWORD" | bldst auth login --username builder --password-stdin',
    ],
    async run(ctx, v) {
      // Loaded only here: readline is not needed by any other command.
      const { readLine, readSecret } = await import('./prompt');
      const username =
        v.username ??
        (await readLine(
          'Username: ',
          'without a terminal, give --username and the password on stdin: printf \'%s\\n\' "$PASSWORD" | bldst auth login --username builder --password-stdin',
        ));
      if (!username) throw usage('a username is required');
      const password = await readSecret('Password: ');
      const ttl = v.ttl === undefined ? undefined : Number(v.ttl);
      if (ttl !== undefined && !Number.isInteger(ttl)) throw usage('--ttl must be a whole number of seconds');
      // Sent without the stored credential: a login works whatever state the old one is in.
      const res = await new Client(ctx.client().url, undefined).post<{
        access_token: string;
        expires_in: number;
        scope: string;
        refresh_token?: string;
        refresh_expires_at?: string;
      }>('/auth/token', compact({ username, password, ttl_s: ttl }));
      const expiresAt = new Date(Date.now() + res.expires_in * 1000).toISOString();
      writeConfigFile({
        token: res.access_token,
        token_expires_at: expiresAt,
        token_username: username,
        refresh_token: res.refresh_token,
        refresh_expires_at: res.refresh_expires_at,
        api_key: undefined,
      });
      const result = {
        username,
        scope: res.scope,
        expires_at: expiresAt,
        renewable_until: res.refresh_expires_at ?? null,
        config_file: configPath(),
      };
      if (ctx.output === 'json') printJson(result);
      else if (!ctx.quiet)
        process.stderr.write(
          `logged in as ${username} (${res.scope}); the token expires at ${expiresAt} (in ${duration(res.expires_in)})${res.refresh_expires_at ? ` and is renewed automatically until ${res.refresh_expires_at}` : ''}; saved to ${configPath()}\n`,
        );
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['user', 'create'],
    summary:
      'Create a user; the password comes from a prompt, --password-stdin, or (in a script) is generated and shown once',
    options: {
      username: { type: 'string', description: '2-64 lowercase letters, digits, . _ - (required)' },
      email: { type: 'string', description: 'e-mail address (required)' },
      scopes: { type: 'string', description: 'read, write or admin, comma-separated (default: write)' },
      'password-stdin': { type: 'boolean', description: 'read the password from stdin' },
    },
    examples: ['bldst user create --username "builder" --email "builder@example.com"'],
    async run(ctx, v) {
      if (!v.username || !v.email) throw usage('--username and --email are required');
      const { password, generated } = await newPassword(v['password-stdin']);
      const user = await ctx.client().post<UserView>('/users', {
        username: v.username,
        email: v.email,
        password,
        scopes: scopes(v.scopes, ['write']),
      });
      const shown = generated ? { ...user, generated_password: password } : user;
      show(ctx, shown, user.username);
      if (generated && ctx.output !== 'json')
        process.stderr.write(
          `${paint(ctx.style, 'bold', `generated password for ${user.username}: ${password}`)} (shown only now)\n`,
        );
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['user', 'list'],
    summary: 'List users (active ones, or all with --include-deactivated)',
    options: { 'include-deactivated': { type: 'boolean', description: 'also deactivated users' } },
    examples: ['bldst user list'],
    async run(ctx, v) {
      const items = (
        await ctx
          .client()
          .get<{ items: UserView[] }>(`/users${v['include-deactivated'] ? '?include_deactivated=true' : ''}`)
      ).items;
      if (ctx.quiet) for (const u of items) process.stdout.write(`${u.username}\n`);
      else if (ctx.output === 'json') printJson(items);
      else
        printTable(
          items,
          [
            col('username', 'USERNAME'),
            col('email', 'EMAIL'),
            { header: 'SCOPES', value: (u) => (u.scopes as string[]).join(',') },
            { header: 'ACTIVE', value: (u) => (u.active ? 'yes' : 'no') },
            col('created_at', 'CREATED'),
          ],
          ctx.style,
          { wide: ctx.wide, empty: 'no users' },
        );
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['user', 'delete'],
    args: '<username>',
    summary: 'Deactivate a user (soft delete): their logins and API tokens stop working at once',
    examples: ['bldst user delete builder'],
    async run(ctx, _v, p) {
      const user = await ctx.client().request<UserView>('DELETE', `/users/${seg(one(p, 'username'))}`);
      show(ctx, user, user.username);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['token', 'create'],
    summary:
      "Create an API token for a user: never wider than the user's scopes, and dead once the user is deactivated",
    options: {
      username: { type: 'string', description: 'whose token (required)' },
      description: { type: 'string', description: "what it is for (the key's name)" },
      scopes: { type: 'string', description: "narrower scopes, comma-separated (default: the user's)" },
      'expires-at': expiresOpt,
    },
    examples: ['bldst token create --username "builder" --description "Build pipeline token"'],
    async run(ctx, v) {
      if (!v.username) throw usage('--username is required');
      const key = await ctx.client().post<KeyView>(
        '/api-keys',
        compact({
          name: v.description ?? `token of ${v.username}`,
          owner: v.username,
          scopes: scopes(v.scopes),
          expires_at: v['expires-at'],
        }),
      );
      showNewKey(ctx, key, 'token');
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['token', 'list'],
    summary: "List users' API tokens (never their secrets)",
    options: {
      username: { type: 'string', description: 'only this user' },
      'include-revoked': { type: 'boolean', description: 'also revoked and expired ones' },
    },
    examples: ['bldst token list --username builder'],
    async run(ctx, v) {
      const q = new URLSearchParams(
        compact({ owner: v.username, include_revoked: v['include-revoked'] ? 'true' : undefined }) as Record<
          string,
          string
        >,
      );
      await listKeys(ctx, q, true);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['token', 'revoke'],
    args: '<token-id>',
    summary: 'Revoke a token at once',
    examples: ['bldst token revoke ak_0123456789abcdef'],
    async run(ctx, _v, p) {
      const key = await ctx.client().request<KeyView>('DELETE', `/api-keys/${seg(one(p, 'token id'))}`);
      show(ctx, key, key.id);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['api-key', 'create'],
    summary: 'Create an API key that belongs to no one (for a service; the secret is shown once)',
    options: {
      name: { type: 'string', description: 'what it is for (required)' },
      scopes: { type: 'string', description: 'read, write or admin, comma-separated (required)' },
      'expires-at': expiresOpt,
    },
    examples: ['bldst api-key create --name "concourse" --scopes write'],
    async run(ctx, v) {
      if (!v.name || !v.scopes) throw usage('--name and --scopes are required');
      const key = await ctx
        .client()
        .post<KeyView>(
          '/api-keys',
          compact({ name: v.name, scopes: scopes(v.scopes), expires_at: v['expires-at'] }),
        );
      showNewKey(ctx, key, 'API key');
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['api-key', 'list'],
    summary: "List API keys, users' tokens included (never their secrets)",
    options: { 'include-revoked': { type: 'boolean', description: 'also revoked and expired ones' } },
    examples: ['bldst api-key list'],
    async run(ctx, v) {
      await listKeys(
        ctx,
        new URLSearchParams(v['include-revoked'] ? { include_revoked: 'true' } : {}),
        false,
      );
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['api-key', 'revoke'],
    args: '<key-id>',
    summary: 'Revoke an API key at once',
    examples: ['bldst api-key revoke ak_0123456789abcdef'],
    async run(ctx, _v, p) {
      const key = await ctx.client().request<KeyView>('DELETE', `/api-keys/${seg(one(p, 'key id'))}`);
      show(ctx, key, key.id);
      return EXIT.ok;
    },
  }),
];
