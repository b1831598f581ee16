/**
 * The floor probes of bench:bundles: what a function loads before a line of BuildState runs, with
 * no BuildState code in it. Each probe is a middy handler wrapped as the functions' handlers are
 * (Powertools' tracer and logger middlewares, the metrics instance), plus the AWS SDK v3 clients
 * that function bundles (bench/floor/*.ts), each built on the first call and traced, as the
 * functions build theirs. Bundled with the functions' own esbuild options and imported as they are.
 */

/** The SDK clients a function can bundle, each with the string that marks it in a minified bundle. */
export const FLOOR_CLIENTS = {
  dynamodb: 'DynamoDBDocumentClient',
  s3: 'AmazonS3',
  eventbridge: 'AWSEvents',
  'secrets-manager': 'secretsmanager',
  // The provenance functions' signing key (KMS's service id, which survives minification).
  kms: 'TrentService',
} as const;
export type FloorClient = keyof typeof FLOOR_CLIENTS;

/** The clients a bundle holds, read from its minified text. */
export const clientsIn = (bundle: string): FloorClient[] =>
  (Object.keys(FLOOR_CLIENTS) as FloorClient[]).filter((c) => bundle.includes(FLOOR_CLIENTS[c]));

/** The source of a probe's entry module (resolved from bench/) for these clients. */
export function floorEntry(clients: readonly FloorClient[]): string {
  return [
    "import { probe } from './floor/base';",
    ...clients.map((c, k) => `import { make as client${k} } from './floor/${c}';`),
    `export const handler = probe([${clients.map((_, k) => `client${k}`).join(', ')}]);`,
  ].join('\n');
}
