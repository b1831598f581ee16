// proxy-from-env 2.x ships no types: the one function bldst uses.
declare module 'proxy-from-env' {
  /** The proxy URL for `url` from *_PROXY / NO_PROXY (lower case first), or '' for a direct connection. */
  export function getProxyForUrl(url: string | URL): string;
}
