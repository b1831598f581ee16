/**
 * --sigv4: sign requests with SigV4 for the IAM API (service execute-api), with credentials from
 * the standard AWS chain (env, shared config/SSO, web identity, container and instance roles).
 * Loaded only when asked for.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../lib/auth/sha256';

/** Region from AWS_REGION, else from an execute-api host name (…execute-api.<region>.amazonaws.com). */
export function regionFor(url: URL): string {
  const fromHost = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || fromHost;
  if (!region) throw new Error('--sigv4 needs a region: set AWS_REGION');
  return region;
}

export type Signer = (
  method: string,
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
  when?: Date,
) => Promise<Record<string, string>>;

export function createSigner(credentials = defaultProvider()): Signer {
  return async (method, url, headers, body, when) => {
    const target = new URL(url);
    // API Gateway needs no x-amz-content-sha256 header (unlike S3): sign as curl --aws-sigv4 does.
    const signer = new SignatureV4({
      service: 'execute-api',
      region: regionFor(target),
      credentials,
      sha256: Sha256,
      applyChecksum: false,
    });
    const query: Record<string, string> = {};
    for (const [k, v] of target.searchParams) query[k] = v;
    const signed = await signer.sign(
      {
        method,
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port ? Number(target.port) : undefined,
        path: target.pathname,
        query,
        headers: { ...headers, host: target.host },
        body,
      },
      when ? { signingDate: when } : undefined,
    );
    return signed.headers as Record<string, string>;
  };
}
