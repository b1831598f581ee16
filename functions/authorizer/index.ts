/**
 * API Gateway (HTTP API) Lambda authorizer with simple responses: verifies X-API-Key or a Bearer
 * JWT and passes
 * the principal to the handlers as requestContext.authorizer.lambda.
 */
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { type AuthorizerContext, toAuthorizerContext } from '../../lib/auth/principal';
import { authenticator } from '../../lib/compose/identity';
import { AppError } from '../../lib/errors';
import { lambdaHandler } from '../../lib/observability/lambda';

export const handler = lambdaHandler(async function authorize(
  event: APIGatewayRequestAuthorizerEventV2,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext | Record<string, never>>> {
  try {
    const principal = await authenticator().authenticate(event.headers ?? {});
    return { isAuthorized: true, context: toAuthorizerContext(principal) };
  } catch (error) {
    if (error instanceof AppError && error.code === 'unauthorized')
      return { isAuthorized: false, context: {} };
    throw error;
  }
});
