import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * X-Ray tracing (Powertools). It traces only inside Lambda: the tracer turns itself off where
 * AWS_EXECUTION_ENV is unset (npm start, tests, scripts) and then wraps nothing and logs nothing;
 * POWERTOOLS_TRACE_ENABLED=false turns it off in Lambda too.
 */
/**
 * Responses are never recorded (captureResponse: false where the handlers are wrapped): they hold
 * API keys, tokens and whole pages of builds.
 */
export const tracer = new Tracer({ serviceName: 'buildstate' });
