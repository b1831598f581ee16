/**
 * Proxies as curl and the AWS CLI read them: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY,
 * lower case first (proxy-from-env). Every bldst request goes through openRequest (cli/http.ts),
 * so the API, presigned uploads and downloads all take the same decision here.
 *
 * Not undici's EnvHttpProxyAgent: it steers fetch and undici's own client only, and bldst speaks
 * node:http on purpose (see cli/http.ts); undici 8 also needs Node 22 and undici 7 Node 20.18.
 */
import type { Agent } from 'node:http';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';

const agents = new Map<string, Agent>();

/** The agent that reaches `url` through its proxy, or undefined for a direct connection. */
export function proxyAgentFor(url: URL): Agent | undefined {
  const proxy = getProxyForUrl(url.href);
  if (!proxy) return undefined;
  const key = `${url.protocol}${proxy}`;
  let agent = agents.get(key);
  if (!agent) {
    // https targets tunnel through CONNECT; http targets send absolute-URI requests to the proxy.
    // Kept alive, as node's own global agent is: a transfer's parts and ranges reuse their
    // connections to the proxy instead of opening (and tunnelling) one per request.
    agent =
      url.protocol === 'https:'
        ? new HttpsProxyAgent(proxy, { keepAlive: true })
        : new HttpProxyAgent(proxy, { keepAlive: true });
    agents.set(key, agent);
  }
  return agent;
}

/**
 * The proxy bldst takes for `url` and the variable that named it, for messages (credentials in
 * the proxy's URL shown as `***`), or undefined for a direct connection.
 */
export function proxyFor(url: URL): { proxy: string; variable: string } | undefined {
  const proxy = getProxyForUrl(url.href);
  if (!proxy) return undefined;
  const proto = url.protocol.replace(/:$/, '');
  // proxy-from-env's order: <proto>_proxy (lower case first), then all_proxy.
  const variable =
    [`${proto}_proxy`, `${proto.toUpperCase()}_PROXY`, 'all_proxy', 'ALL_PROXY'].find(
      (name) => process.env[name],
    ) ?? `${proto}_proxy`;
  return { proxy: proxy.replace(/\/\/[^@/]*@/, '//***@'), variable };
}
