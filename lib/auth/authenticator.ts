import { AppError } from '../errors';
import type { ApiKeyService } from './api-key.service';
import type { Principal } from './principal';
import type { TokenService } from './token.service';

const unauthorized = (message: string) => new AppError('unauthorized', message);

/** Who is calling, from `X-API-Key` or `Authorization: Bearer` (SigV4 is verified before this, by the gateway). */
export class Authenticator {
  constructor(
    private readonly apiKeys: ApiKeyService,
    private readonly tokens: TokenService,
  ) {}

  async authenticate(headers: Record<string, string | undefined>): Promise<Principal> {
    const key = headers['x-api-key'];
    if (key) return this.apiKeys.authenticate(key);
    const authorization = headers.authorization?.trim();
    if (authorization) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (bearer) return this.tokens.authenticate(bearer[1]!);
      if (authorization.startsWith('AWS4-HMAC-SHA256'))
        throw unauthorized('SigV4-signed requests go to the IAM API (stack output IamApiUrl)');
      throw unauthorized('Authorization must be "Bearer <token>"');
    }
    throw unauthorized('Missing credentials: send X-API-Key: <key> or Authorization: Bearer <token>');
  }
}
