/**
 * --sigv4: sign requests with SigV4 for the IAM API (service execute-api), with credentials from
 * the standard AWS chain (env, shared config/SSO, web identity, container and instance roles).
 * Loaded only when asked for.
 */

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../lib/auth/sha256';
import { CliError, EXIT } from './errors';

/** The `region` of the profile in the AWS config file (AWS_CONFIG_FILE, else ~/.aws/config), as the SDK reads it. */
export function regionFromConfigFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.AWS_CONFIG_FILE || join(homedir(), '.aws', 'config');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const profile = env.AWS_PROFILE || 'default';
  const wanted = profile === 'default' ? ['default', 'profile default'] : [`profile ${profile}`];
  let section: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const header = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (header) section = header[1]!.replace(/\s+/g, ' ');
    else if (section && wanted.includes(section)) {
      const m = /^region\s*=\s*(\S+)$/.exec(line);
      if (m) return m[1];
    }
  }
  return undefined;
}

/**
 * The region to sign for: AWS_REGION (or AWS_DEFAULT_REGION), else the region in an execute-api
 * host name (…execute-api.<region>.amazonaws.com), else the AWS config file's; else exit 2.
 */
export function resolveRegion(url: URL, env: NodeJS.ProcessEnv = process.env): string {
  const fromHost = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || fromHost || regionFromConfigFile(env);
  if (!region)
    throw new CliError(
      `--sigv4 needs a region: set AWS_REGION, or region in the [${env.AWS_PROFILE && env.AWS_PROFILE !== 'default' ? `profile ${env.AWS_PROFILE}` : 'default'}] section of ${env.AWS_CONFIG_FILE || '~/.aws/config'}`,
      EXIT.usage,
      'usage',
    );
  return region;
}

const regions = new Map<string, string>();
export function regionFor(url: URL): string {
  let region = regions.get(url.host);
  if (!region) {
    region = resolveRegion(url);
    regions.set(url.host, region);
  }
  return region;
}

export type Signer = (
  method: string,
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
  when?: Date,
) => Promise<Record<string, string>>;

/** `region` pins the signing region; otherwise it is resolved once per host (regionFor). */
export function createSigner(credentials = defaultProvider(), region?: string): Signer {
  return async (method, url, headers, body, when) => {
    const target = new URL(url);
    // API Gateway needs no x-amz-content-sha256 header (unlike S3): sign as curl --aws-sigv4 does.
    const signer = new SignatureV4({
      service: 'execute-api',
      region: region ?? regionFor(target),
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
