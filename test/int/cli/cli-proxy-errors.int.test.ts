/**
 * What bldst says when the proxy, not the service, is the trouble: a proxy that refuses (a policy
 * page, a CONNECT answered 403, one that wants credentials) or is not running. The message names
 * the proxy and the variable it came from, the exit code is the network one (6), not the
 * authentication one (5) a service's 403 would give.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli, type CliResult, cliRunner } from '../../helpers/cli';
import { startForwardProxy } from '../../helpers/forward-proxy';

/** A proxy answering every request and every CONNECT with `status` (and `body`). */
async function refusingProxy(status: number, body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  });
  server.on('connect', (_req, socket) => {
    socket.end(`HTTP/1.1 ${status} Refused\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const servers: Server[] = [];
beforeAll(() => buildCli());
afterAll(async () => {
  for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
});

// The service itself is never reached: every request goes to the proxy.
const { run } = cliRunner(() => 'http://buildstate.example.test:8080');
const said = (r: CliResult) => ({ code: r.code, stderr: r.stderr.trim() });

it('names the proxy (and its variable) that refused an http request, exit 6', async () => {
  const proxy = await refusingProxy(403, 'forbidden by policy');
  servers.push(proxy.server);
  const r = said(await run(['build', 'list'], { env: { HTTP_PROXY: proxy.url } }));
  expect(r.code).toBe(6);
  expect(r.stderr).toContain(`the proxy ${proxy.url} (from HTTP_PROXY) refused the request`);
  expect(r.stderr).toContain('HTTP 403 forbidden by policy');
  expect(r.stderr).not.toMatch(/http_403|log in/);
});

it('names the proxy that refused a CONNECT tunnel for an https service, exit 6', async () => {
  const proxy = await refusingProxy(403, '');
  servers.push(proxy.server);
  const r = said(
    await run(['build', 'list'], {
      env: { https_proxy: proxy.url, BUILDSTATE_API_URL: 'https://buildstate.example.test' },
    }),
  );
  expect(r.code).toBe(6);
  expect(r.stderr).toContain(`the proxy ${proxy.url} (from https_proxy) refused the request`);
});

it('says a proxy wants credentials (407), hiding any it was given', async () => {
  const proxy = await refusingProxy(407, 'Proxy Authentication Required');
  servers.push(proxy.server);
  const withSecret = proxy.url.replace('http://', 'http://me:s3cret@');
  const r = said(await run(['build', 'list'], { env: { http_proxy: withSecret } }));
  expect(r.code).toBe(6);
  expect(r.stderr).toContain('the proxy wants credentials');
  expect(r.stderr).toContain('http://***@127.0.0.1:');
  expect(r.stderr).not.toContain('s3cret');
});

it('says the proxy is not running rather than the service, exit 6', async () => {
  const port = await closedPort();
  const r = said(await run(['build', 'list'], { env: { HTTP_PROXY: `http://127.0.0.1:${port}` } }));
  expect(r.code).toBe(6);
  expect(r.stderr).toContain(`through the proxy http://127.0.0.1:${port} (from HTTP_PROXY)`);
  expect(r.stderr).toContain('is the proxy running?');
  expect(r.stderr).not.toContain('Is the service running');
}, 30_000);

describe('an https service named by its IP address, through a CONNECT proxy', () => {
  const openssl = spawnSync('openssl', ['version']).status === 0;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bs-tls-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A self-signed certificate for `san` (e.g. IP:127.0.0.1) and an https server presenting it. */
  async function serviceWith(san: string, name: string): Promise<{ url: string; ca: string }> {
    const key = join(dir, `${name}.key`);
    const cert = join(dir, `${name}.pem`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${name}`,
        '-addext',
        `subjectAltName=${san}`,
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: [], next_cursor: null }));
    });
    servers.push(server as unknown as Server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, ca: cert };
  }

  it('checks the certificate against that address, as a direct connection does', async () => {
    if (!openssl) {
      console.warn('skipped: no openssl to make a test certificate');
      return;
    }
    const proxy = await startForwardProxy();
    try {
      const good = await serviceWith('IP:127.0.0.1', 'by-address');
      const ok = await run(['build', 'list', '-o', 'json'], {
        env: { BUILDSTATE_API_URL: good.url, HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: good.ca },
      });
      expect(said(ok)).toEqual({ code: 0, stderr: '' });
      expect(proxy.requests.some((r) => r.target === new URL(good.url).host)).toBe(true);

      // A certificate for "localhost" only does not vouch for 127.0.0.1.
      const wrong = await serviceWith('DNS:localhost', 'localhost-only');
      const refused = said(
        await run(['build', 'list'], {
          env: { BUILDSTATE_API_URL: wrong.url, HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: wrong.ca },
        }),
      );
      expect(refused.code).toBe(6);
      expect(refused.stderr).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list/);
      expect(refused.stderr).toContain(`the TLS certificate of ${wrong.url} is not trusted`);
      expect(refused.stderr).toContain('ERR_TLS_CERT_ALTNAME_INVALID');

      // A certificate no CA vouches for (a TLS-inspecting proxy's, say): said at once, with the cure.
      const unknown = said(await run(['build', 'list'], { env: { BUILDSTATE_API_URL: good.url } }));
      expect(unknown.code).toBe(6);
      expect(unknown.stderr).toContain('(DEPTH_ZERO_SELF_SIGNED_CERT)');
      expect(unknown.stderr).toContain('NODE_EXTRA_CA_CERTS');
      expect(unknown.stderr).not.toContain('cannot reach');
    } finally {
      await proxy.stop();
    }
  }, 60_000);
});
