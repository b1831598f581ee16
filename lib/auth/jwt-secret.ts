/**
 * The HMAC secret of BuildState's own JWTs: BUILDSTATE_JWT_SECRET locally, a Secrets Manager secret
 * (BUILDSTATE_JWT_SECRET_ARN) in AWS, fetched on first use and re-read every 5 minutes so a rotation
 * reaches warm functions, through the Secrets Manager client (lib/aws/clients.ts), built once.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientConfig, serviceClient } from '../aws/clients';
import { AppError } from '../errors';

const REFRESH_MS = 5 * 60_000;

export function jwtSecretSource(opts: {
  value?: string;
  arn?: string;
  region: string;
  /** Another Secrets Manager endpoint than the region's (tests). */
  endpoint?: string;
}): () => Promise<Uint8Array> {
  if (opts.value) {
    const key = new TextEncoder().encode(opts.value);
    return async () => key;
  }
  const arn = opts.arn;
  if (!arn) {
    return async () => {
      throw new AppError('unavailable', 'JWT signing is not configured: set BUILDSTATE_JWT_SECRET', {});
    };
  }
  const client = serviceClient(
    new SecretsManagerClient({
      ...clientConfig(opts.region),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    }),
  );
  let cached: { key: Uint8Array; until: number } | undefined;
  return async () => {
    if (cached && cached.until > Date.now()) return cached.key;
    const res = await client.send(new GetSecretValueCommand({ SecretId: arn })).catch((error) => {
      throw new AppError('unavailable', 'The JWT signing secret cannot be read', {}, { cause: error });
    });
    if (!res.SecretString) throw new AppError('unavailable', 'The JWT signing secret is empty', {});
    cached = { key: new TextEncoder().encode(res.SecretString), until: Date.now() + REFRESH_MS };
    return cached.key;
  };
}
