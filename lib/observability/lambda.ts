/**
 * The wrapper of every Lambda handler that is not an HTTP route (stream consumers, the stuck
 * detector, the authorizer): Powertools' tracer (a subsegment per invocation, in Lambda only) and
 * injectLambdaContext, so each log line carries the request id, function name and cold start.
 * HTTP handlers get the same from lib/http/handler.ts.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger } from './logger';
import { tracer } from './tracer';

export function lambdaHandler<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return middy<E, R>()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(fn);
}
