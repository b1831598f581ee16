/** The part of every floor probe (bench/design-floor.ts) that is not an SDK client. */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';

export const tracer = new Tracer({ serviceName: 'floor' });
const logger = new Logger({ serviceName: 'floor' });
const metrics = new Metrics({ namespace: 'Floor', serviceName: 'floor' });

/** A handler that builds its clients on the first call, as the functions do. */
export function probe(makers: readonly ((t: Tracer) => unknown)[]) {
  let clients: unknown[] | undefined;
  return middy()
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(injectLambdaContext(logger))
    .handler(async () => {
      clients ??= makers.map((make) => make(tracer));
      metrics.addMetric('Probe', 'Count', 1);
      return clients.length;
    });
}
