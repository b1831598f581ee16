import type { Context } from 'aws-lambda';
import type { HttpEvent } from '../../lib/http/http';

/** A minimal API Gateway HTTP API (payload v2) event, as the gateway would send it. */
export function httpEvent(
  method: string,
  routePath: string,
  opts: { rawPath?: string; body?: string; headers?: Record<string, string>; isBase64Encoded?: boolean } = {},
): HttpEvent {
  return {
    version: '2.0',
    routeKey: `${method} ${routePath}`,
    rawPath: opts.rawPath ?? routePath,
    rawQueryString: '',
    headers: opts.headers ?? {},
    body: opts.body,
    isBase64Encoded: opts.isBase64Encoded ?? false,
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      requestId: 'req-1',
      routeKey: `${method} ${routePath}`,
      stage: '$default',
      time: '',
      timeEpoch: 0,
      http: {
        method,
        path: opts.rawPath ?? routePath,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'jest',
      },
    },
  };
}

export const lambdaContext = {
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;
