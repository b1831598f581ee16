/**
 * Composition, one module per concern: each function group imports only the factories its
 * routes use, so its bundle holds only that code (composition per function group, not one root
 * that builds every service). Every factory is lazy and builds its object once per runtime
 * (a Lambda cold start, or the local gateway process, where all groups share them).
 *
 * This one: the configuration, the one DynamoDB document client, and readiness.
 */

import { type Config, config } from '../config/env';
import { createDocumentClient } from '../db/client';
import { GetCommand } from '../db/commands';
import { translateStoreError } from '../db/errors';

/**
 * Lazily built once per runtime. Making a factory calls nothing, so each module-level call carries
 * esbuild's `@__PURE__` annotation: a bundle then drops the factories its function never calls,
 * with all they reach (esbuild cannot see by itself that once() is free of side effects).
 */
export function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}

export const runtimeConfig = (): Config => config();

export const db = /* @__PURE__ */ once(() => createDocumentClient(config()));

/** Readiness: one cheap consistent read proves the table exists and answers. */
export async function ready(): Promise<void> {
  await db()
    .send(
      new GetCommand({
        TableName: config().tableName,
        Key: { pk: 'META#READY', sk: 'META' },
        ConsistentRead: true,
      }),
    )
    .catch(translateStoreError);
}
