/**
 * The HMAC secret of BuildState's own JWTs: BUILDSTATE_JWT_SECRET locally, a Secrets Manager secret
 * (BUILDSTATE_JWT_SECRET_ARN) in AWS, fetched on first use and re-read every 5 minutes so a rotation
 * reaches warm functions. GetSecretValue is a signed request (lib/aws/json-rpc.ts), not the
 * Secrets Manager client.
 */
import { JsonRpcClient, SECRETS_MANAGER } from '../aws/json-rpc';
import { AppError } from '../errors';

/** The part of GetSecretValue's answer used here. */
interface GetSecretValueResponse {
  SecretString?: string;
}

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
  const client = new JsonRpcClient({
    ...SECRETS_MANAGER,
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
  });
  let cached: { key: Uint8Array; until: number } | undefined;
  return async () => {
    if (cached && cached.until > Date.now()) return cached.key;
    const res = await client
      .call<GetSecretValueResponse>('GetSecretValue', { SecretId: arn })
      .catch((error) => {
        throw new AppError('unavailable', 'The JWT signing secret cannot be read', {}, { cause: error });
      });
    if (!res.SecretString) throw new AppError('unavailable', 'The JWT signing secret is empty', {});
    cached = { key: new TextEncoder().encode(res.SecretString), until: Date.now() + REFRESH_MS };
    return cached.key;
  };
}
