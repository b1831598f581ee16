/**
 * bldst --sigv4 against an independent implementation: curl's --aws-sigv4 signs a request to a
 * local capture server; our signer, given the same credentials, time and headers, must produce
 * the same Authorization header.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CliError } from '../../../cli/errors';
import { createSigner, resolveRegion } from '../../../cli/sigv4';

const run = promisify(execFile);
const credentials = async () => ({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
});

it('signs exactly as curl --aws-sigv4 does for execute-api', async () => {
  let seen: IncomingHttpHeaders = {};
  const server = createServer((req, res) => {
    seen = req.headers;
    req.resume();
    req.on('end', () => res.end('{}'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/builds/b-1/states`;
  const body = '{"state_code":25,"status":"completed"}';
  try {
    await run('curl', [
      '-s',
      '--aws-sigv4',
      'aws:amz:eu-central-1:execute-api',
      '--user',
      'AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      '-H',
      'content-type: application/json',
      '-d',
      body,
      url,
    ]);
  } finally {
    server.close();
  }
  const auth = String(seen.authorization);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(auth)![1]!.split(';');
  const amzDate = String(seen['x-amz-date']);
  const when = new Date(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));

  process.env.AWS_REGION = 'eu-central-1';
  const headers: Record<string, string> = {};
  for (const name of signedHeaders)
    if (name !== 'host' && name !== 'x-amz-date') headers[name] = String(seen[name]);
  const ours = await createSigner(credentials)('POST', url, headers, body, when);
  expect(ours.authorization).toBe(auth);
});

it('takes the region from AWS_REGION, the execute-api host name or the AWS config file, else says what to set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bs-aws-'));
  const config = join(dir, 'config');
  writeFileSync(config, '[default]\nregion = eu-west-3\n\n[profile ci]\n# a comment\nregion=us-west-2\n');
  const env = { AWS_CONFIG_FILE: config };
  const local = new URL('http://127.0.0.1:8080/');
  expect(resolveRegion(local, { ...env, AWS_REGION: 'eu-north-1' })).toBe('eu-north-1');
  expect(resolveRegion(new URL('https://abc123.execute-api.ap-southeast-2.amazonaws.com/builds'), env)).toBe(
    'ap-southeast-2',
  );
  expect(resolveRegion(local, env)).toBe('eu-west-3');
  expect(resolveRegion(local, { ...env, AWS_PROFILE: 'ci' })).toBe('us-west-2');
  const missing = (() => {
    try {
      resolveRegion(local, { AWS_CONFIG_FILE: join(dir, 'none'), AWS_PROFILE: 'ci' });
    } catch (error) {
      return error as CliError;
    }
  })();
  expect([missing?.exitCode, missing?.message]).toEqual([
    2,
    `--sigv4 needs a region: set AWS_REGION, or region in the [profile ci] section of ${join(dir, 'none')}`,
  ]);
});
