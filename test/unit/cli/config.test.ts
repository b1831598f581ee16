import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configPath, readConfigFile, resolveConfig, writeConfigFile } from '../../../cli/config';
import { CliError } from '../../../cli/errors';

describe('cli config file', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.XDG_CONFIG_HOME = mkdtempSync(join(tmpdir(), 'bldst-config-'));
    delete process.env.BUILDSTATE_API_URL;
    delete process.env.BUILDSTATE_API_TOKEN;
  });
  afterAll(() => {
    process.env = saved;
  });

  it('writes the whole file with mode 0600 through a temporary file that does not stay behind', () => {
    writeConfigFile({ url: 'http://127.0.0.1:1' });
    writeConfigFile({ api_key: 'bs_k' });
    const file = configPath();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ url: 'http://127.0.0.1:1', api_key: 'bs_k' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(file, '..'))).toEqual(['config.json']);
  });

  it.each([
    ['not JSON', '{"url": "http://x", '],
    ['a JSON array', '[1]'],
    ['JSON null', 'null'],
  ])('refuses a config file that is %s, naming it, and leaves it untouched', (_what, text) => {
    writeConfigFile({ url: 'http://127.0.0.1:1' });
    writeFileSync(configPath(), text);
    for (const act of [
      () => readConfigFile(),
      () => writeConfigFile({ api_key: 'k' }),
      () => resolveConfig(),
    ]) {
      let error: unknown;
      try {
        act();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).message).toContain(configPath());
      expect((error as CliError).exitCode).toBe(2);
    }
    expect(readFileSync(configPath(), 'utf8')).toBe(text);
  });

  it('reads no file when both variables are set, so a broken one does not stop CI', () => {
    writeConfigFile({ url: 'http://127.0.0.1:1' });
    writeFileSync(configPath(), '{');
    process.env.BUILDSTATE_API_URL = 'http://127.0.0.1:2';
    process.env.BUILDSTATE_API_TOKEN = 'bs_key';
    expect(resolveConfig()).toMatchObject({ url: 'http://127.0.0.1:2', keySource: 'env' });
  });

  it.each(['127.0.0.1:8080', 'localhost', 'ftp://host'])(
    'refuses BUILDSTATE_API_URL=%s as a usage error (exit 2) naming the variable, not a network fault later',
    (url) => {
      process.env.BUILDSTATE_API_URL = url;
      let thrown: unknown;
      try {
        resolveConfig();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(CliError);
      expect(thrown).toMatchObject({ exitCode: 2 });
      expect((thrown as Error).message).toContain(`BUILDSTATE_API_URL=${url} is not a URL`);
    },
  );

  it('treats a missing file as an empty config', () => {
    expect(readConfigFile()).toEqual({});
  });
});
