import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { proxyAgentFor } from '../../../cli/proxy';

const NAMES = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'all_proxy',
  'no_proxy',
];
const saved = Object.fromEntries(NAMES.map((n) => [n, process.env[n]]));
beforeEach(() => {
  for (const n of NAMES) delete process.env[n];
});
afterAll(() => {
  for (const n of NAMES)
    if (saved[n] === undefined) delete process.env[n];
    else process.env[n] = saved[n];
});

describe('proxyAgentFor', () => {
  it('connects directly when no proxy is set', () => {
    expect(proxyAgentFor(new URL('https://s3.eu-west-1.amazonaws.com/b/k'))).toBeUndefined();
  });

  it('tunnels https through HTTPS_PROXY (CONNECT) and sends http to HTTP_PROXY (absolute URI)', () => {
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128';
    process.env.HTTP_PROXY = 'http://proxy.corp:3129';
    const s3 = proxyAgentFor(new URL('https://bucket.s3.amazonaws.com/k?X-Amz-Signature=x'));
    expect(s3).toBeInstanceOf(HttpsProxyAgent);
    expect((s3 as HttpsProxyAgent<string>).proxy.port).toBe('3128');
    const api = proxyAgentFor(new URL('http://buildstate.corp/builds'));
    expect(api).toBeInstanceOf(HttpProxyAgent);
    expect((api as HttpProxyAgent<string>).proxy.port).toBe('3129');
  });

  it('reads lower-case names first, as curl does', () => {
    process.env.HTTPS_PROXY = 'http://upper:1';
    process.env.https_proxy = 'http://lower:2';
    expect((proxyAgentFor(new URL('https://x.example/')) as HttpsProxyAgent<string>).proxy.hostname).toBe(
      'lower',
    );
  });

  it('goes direct for NO_PROXY hosts: exact, with a port, a leading dot, and *', () => {
    process.env.HTTPS_PROXY = 'http://proxy.corp:3128';
    process.env.HTTP_PROXY = 'http://proxy.corp:3128';
    process.env.NO_PROXY = 'api.corp, 127.0.0.1:8080, .internal.example';
    expect(proxyAgentFor(new URL('https://api.corp/x'))).toBeUndefined();
    expect(proxyAgentFor(new URL('http://127.0.0.1:8080/x'))).toBeUndefined();
    expect(proxyAgentFor(new URL('http://127.0.0.1:9000/x'))).toBeDefined();
    expect(proxyAgentFor(new URL('https://s3.internal.example/x'))).toBeUndefined();
    expect(proxyAgentFor(new URL('https://s3.amazonaws.com/x'))).toBeDefined();
    process.env.no_proxy = '*';
    expect(proxyAgentFor(new URL('https://s3.amazonaws.com/x'))).toBeUndefined();
  });
});
