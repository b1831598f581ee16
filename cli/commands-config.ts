/** Where bldst finds its server and key: `config set-url`, `config show`, `auth set-key`, `auth logout`, `auth whoami`. */
import { Client } from './client';
import { type Command, defineCommand, one, show } from './command';
import { configPath, readConfigFile, resolveConfig, writeConfigFile } from './config';
import { EXIT, usage } from './errors';

/** A login's fields in the config file, cleared together. */
const NO_LOGIN = {
  token: undefined,
  token_expires_at: undefined,
  token_username: undefined,
  refresh_token: undefined,
  refresh_expires_at: undefined,
};

export const CONFIG_COMMANDS: Command[] = [
  defineCommand({
    path: ['config', 'set-url'],
    args: '<url>',
    summary: 'Set the BuildState API URL in the config file',
    examples: ['bldst config set-url http://127.0.0.1:8080'],
    async run(ctx, _v, positionals) {
      const url = one(positionals, 'URL');
      if (!/^https?:\/\/\S+$/.test(url)) throw usage('the URL must start with http:// or https://');
      writeConfigFile({ url: url.replace(/\/+$/, '') });
      if (!ctx.quiet) process.stderr.write(`saved to ${configPath()}\n`);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['config', 'show'],
    summary: 'Show the URL and key in use and where they come from (the key is masked)',
    examples: ['bldst config show'],
    async run(ctx) {
      const c = resolveConfig();
      const shown = {
        url: c.url,
        url_source: c.urlSource,
        api_key: c.apiKey ? `${c.apiKey.slice(0, 6)}…${c.apiKey.slice(-4)}` : null,
        api_key_source: c.keySource,
        credential: c.credential?.kind ?? null,
        ...(c.credential?.kind === 'bearer'
          ? { login: c.credential.username ?? null, expires_at: c.credential.expiresAt ?? null }
          : {}),
        config_file: configPath(),
      };
      show(ctx, shown);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['auth', 'set-key'],
    args: '<api-key>',
    summary: 'Store an API key in the config file (mode 0600)',
    examples: ['bldst auth set-key bst_…', 'bldst auth set-key "$(cat key.txt)"'],
    async run(ctx, _v, positionals) {
      // The key replaces a login token: whichever was set last is used.
      writeConfigFile({
        api_key: one(positionals, 'API key'),
        ...NO_LOGIN,
      });
      if (!ctx.quiet) process.stderr.write(`saved to ${configPath()}\n`);
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['auth', 'logout'],
    summary:
      'Remove the stored API key or login from the config file; a login is also revoked on the server (its refresh token stops working)',
    examples: ['bldst auth logout'],
    async run(ctx) {
      const stored = readConfigFile();
      if (stored.refresh_token) {
        try {
          await new Client(resolveConfig().url, undefined).post('/auth/revoke', {
            refresh_token: stored.refresh_token,
          });
        } catch (error) {
          // Logging out locally still happens; the token then lives until it expires.
          if (!ctx.quiet)
            process.stderr.write(
              `bldst: the login could not be revoked on the server (${(error as Error).message}); it is removed here\n`,
            );
        }
      }
      writeConfigFile({ api_key: undefined, ...NO_LOGIN });
      return EXIT.ok;
    },
  }),
  defineCommand({
    path: ['auth', 'whoami'],
    summary: 'Show who the server takes you for',
    examples: ['bldst auth whoami'],
    async run(ctx) {
      const me = await ctx.client().get<Record<string, unknown>>('/whoami');
      show(ctx, me, me.id);
      return EXIT.ok;
    },
  }),
];
