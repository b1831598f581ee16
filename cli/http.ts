/**
 * Minimal HTTP over node:http(s). Not fetch: on Node 20, loading undici adds ~160 ms to every
 * process exit (measured in bench/cli.bench.ts), which a CLI called per pipeline step pays each time.
 */
import {
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { type RequestOptions as HttpsRequestOptions, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import { proxyAgentFor } from './proxy';

/**
 * A request to `url` over http or https, as its scheme says, through the proxy the environment
 * names for it (HTTPS_PROXY, HTTP_PROXY, NO_PROXY: see cli/proxy.ts).
 */
export function openRequest(
  url: URL,
  options: RequestOptions,
  onResponse: (res: IncomingMessage) => void,
): ClientRequest {
  const agent = proxyAgentFor(url);
  if (!agent) return (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, onResponse);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const tunnelled: HttpsRequestOptions = { ...options, agent };
  // https-proxy-agent (9.1) leaves both host and servername out of the TLS handshake it makes
  // through the tunnel when the target is an IP address, so Node checks the certificate against
  // "localhost": a certificate for the address itself is refused, one for localhost accepted.
  // Check it against the address the URL names, as a direct connection does.
  if (url.protocol === 'https:' && isIP(host))
    tunnelled.checkServerIdentity = (_ignored, cert) => checkServerIdentity(host, cert);
  return (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, tunnelled, onResponse);
}

export interface HttpReply {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

export function httpCall(
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
  timeoutMs = 30_000,
): Promise<HttpReply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = openRequest(
      target,
      {
        method,
        headers: {
          ...headers,
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}
