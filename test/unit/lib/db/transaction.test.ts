/** The transaction composer: named parts in order, optional parts, keys for inspection. */
import { MAX_TRANSACTION_ITEMS, Transaction } from '../../../../lib/db/transaction';

const put = (pk: string) => ({ Put: { TableName: 't', Item: { pk, sk: 'X', a: 1 } } });

describe('Transaction', () => {
  it('keeps parts by name, in the order they were added, and skips absent optional parts', () => {
    const tx = new Transaction()
      .add('build', put('BUILD#1'))
      .add('idempotency', undefined)
      .add('live', {
        Update: { TableName: 't', Key: { pk: 'BUILD#1', sk: 'LIVE' }, UpdateExpression: 'SET a = :a' },
      });
    expect(tx.names()).toEqual(['build', 'live']);
    expect(tx.has('idempotency')).toBe(false);
    expect(tx.keys()).toEqual([
      { name: 'build', table: 't', key: { pk: 'BUILD#1', sk: 'X' } },
      { name: 'live', table: 't', key: { pk: 'BUILD#1', sk: 'LIVE' } },
    ]);
  });

  it('refuses a name used twice and more items than DynamoDB allows', async () => {
    const tx = new Transaction().add('a', put('A'));
    expect(() => tx.add('a', put('B'))).toThrow(/added twice/);
    const big = new Transaction();
    for (let i = 0; i <= MAX_TRANSACTION_ITEMS; i++) big.add(`p${i}`, put(`P${i}`));
    await expect(big.send({} as never)).rejects.toThrow(/at most 100/);
  });
});
