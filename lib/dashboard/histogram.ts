/**
 * Durations as log-scale histograms: bucket b > 0 holds (GROWTH^(b-1), GROWTH^b] seconds, bucket 0
 * holds anything up to one second. A percentile read back from the buckets is within 5% of the true
 * value, and the counts can be kept with DynamoDB's ADD, so a histogram costs one small item.
 */
const GROWTH = 1.1;
const LOG_GROWTH = Math.log(GROWTH);

export const bucketOf = (seconds: number): number =>
  seconds <= 1 ? 0 : Math.max(1, Math.ceil(Math.log(seconds) / LOG_GROWTH - 1e-9));

/** The value reported for a bucket: the geometric middle of its range. */
export const bucketValue = (bucket: number): number => (bucket === 0 ? 1 : GROWTH ** (bucket - 0.5));

export const BUCKET_PREFIX = 'b';
export const bucketAttribute = (bucket: number) => `${BUCKET_PREFIX}${bucket}`;

/** Counts by bucket, as read from an item's `b<n>` attributes. */
export type Histogram = Map<number, number>;

export function histogramFromItem(item: Record<string, unknown>): Histogram {
  const histogram: Histogram = new Map();
  for (const [name, value] of Object.entries(item)) {
    if (!/^b\d+$/.test(name) || typeof value !== 'number' || value <= 0) continue;
    histogram.set(Number(name.slice(1)), value);
  }
  return histogram;
}

/** The q-quantile (0 < q ≤ 1) in seconds, rounded to a whole second; null for an empty histogram. */
export function percentile(histogram: Histogram, q: number): number | null {
  const total = [...histogram.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket)!;
    if (seen >= rank) return Math.round(bucketValue(bucket));
  }
  return null;
}
