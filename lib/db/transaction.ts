/**
 * Transactions composed from named parts. Each entity builds only its own item (a build's put, its
 * history put, the live item's update, an idempotency record, an artifact record …) and hands it
 * to a Transaction under a name; the one composer sends them as a single TransactWriteItems and
 * reports refusals by those names, never by position, so adding a part never shifts another.
 *
 *   const tx = new Transaction().add('build', …).add('history', …).add(`artifact:${name}`, …);
 *   const result = await tx.send(db);
 *   if (!result.committed && result.failed.has('build')) …
 *
 * This module is neutral: it knows DynamoDB, not builds, leases or dashboards.
 */
import type { DocumentClient } from './commands';
import { TransactWriteCommand } from './commands';
import { cancellation, translateStoreError } from './errors';

/** One item of a TransactWriteItems request (Put, Update, Delete or ConditionCheck), document-client form. */
export type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

/** DynamoDB's limit of items per TransactWriteItems. */
export const MAX_TRANSACTION_ITEMS = 100;

export type TransactionResult =
  | { committed: true }
  | {
      committed: false;
      /** Names of the parts whose condition failed. */
      failed: ReadonlySet<string>;
      /** Real DynamoDB's TransactionConflict: another transaction touched an item; retry. */
      conflict: boolean;
      /** The part's item as it was, when the part asked for it (ReturnValuesOnConditionCheckFailure). */
      old(name: string): Record<string, unknown> | undefined;
    };

/** A key a part touches: the table and the item's key. */
export interface PartKey {
  name: string;
  table: string;
  key: Record<string, unknown>;
}

export class Transaction {
  private readonly parts = new Map<string, TransactItem>();

  /** Adds a part; a name used twice is a programming error. `undefined` items are skipped (optional parts). */
  add(name: string, item: TransactItem | undefined): this {
    if (item === undefined) return this;
    if (this.parts.has(name)) throw new Error(`Transaction part '${name}' added twice`);
    this.parts.set(name, item);
    return this;
  }

  has(name: string): boolean {
    return this.parts.has(name);
  }

  get size(): number {
    return this.parts.size;
  }

  names(): string[] {
    return [...this.parts.keys()];
  }

  /** The TransactItems as they will be sent, in the order the parts were added. */
  items(): TransactItem[] {
    return [...this.parts.values()];
  }

  /** Every part's table and key (what the transaction writes or checks), for inspection and tests. */
  keys(): PartKey[] {
    return [...this.parts].map(([name, item]) => {
      const op = (item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck)!;
      const key =
        'Item' in op && op.Item
          ? { pk: op.Item.pk, sk: op.Item.sk }
          : (op as { Key: Record<string, unknown> }).Key;
      return { name, table: op.TableName!, key };
    });
  }

  /**
   * Sends every part as one TransactWriteItems. A refusal (a failed condition, a conflict) comes
   * back as a result naming the parts; outages are thrown as 503, anything else unchanged.
   */
  async send(db: DocumentClient): Promise<TransactionResult> {
    if (this.parts.size === 0) return { committed: true };
    if (this.parts.size > MAX_TRANSACTION_ITEMS)
      throw new Error(`A transaction holds at most ${MAX_TRANSACTION_ITEMS} items, not ${this.parts.size}`);
    const names = this.names();
    try {
      await db.send(new TransactWriteCommand({ TransactItems: this.items() }));
      return { committed: true };
    } catch (error) {
      const summary = cancellation(error);
      if (!summary) return translateStoreError(error);
      return {
        committed: false,
        failed: new Set(summary.failedConditions.map((i) => names[i]!)),
        conflict: summary.conflict,
        old: (name) => {
          const at = names.indexOf(name);
          return at < 0 ? undefined : summary.oldItem(at);
        },
      };
    }
  }
}
