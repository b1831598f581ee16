import { Logger } from '@aws-lambda-powertools/logger';

/** Structured JSON logs (Powertools): level from POWERTOOLS_LOG_LEVEL, service name fixed. */
export const logger = new Logger({ serviceName: 'buildstate' });
