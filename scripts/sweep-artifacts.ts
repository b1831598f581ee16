/**
 * npm run sweep:artifacts -- [--apply] [--min-age-s N]
 * Lists (or with --apply deletes) pointer objects in the artifacts bucket that no record refers to,
 * and multipart uploads left open longer than 7 days (with --apply: aborted, records marked so).
 * Reads the same settings as the service: BUILDSTATE_TABLE_NAME and BUILDSTATE_ARTIFACTS_BUCKET
 * (in AWS); without them, those of the `npm start` running on BUILDSTATE_DATA_DIR (`.data`),
 * from its service.json.
 */
import { parseArgs } from 'node:util';
import { ArtifactRepository } from '../lib/artifacts/artifact.repository';
import { ArtifactStore } from '../lib/artifacts/artifact.store';
import { createS3Client } from '../lib/artifacts/s3-client';
import { sweepOrphans, sweepUploads } from '../lib/artifacts/sweep';
import { UploadRepository } from '../lib/artifacts/upload.repository';
import { services } from '../lib/runtime';
import { useLocalServiceSettings } from '../local/service-file';

const { values } = parseArgs({
  options: {
    apply: { type: 'boolean', default: false },
    'min-age-s': { type: 'string', default: '3600' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run sweep:artifacts -- [--apply] [--min-age-s 3600]');
  process.exit(0);
}
const minAgeSeconds = Number(values['min-age-s']);
if (!Number.isInteger(minAgeSeconds) || minAgeSeconds < 0) {
  console.error('--min-age-s must be a whole number of seconds');
  process.exit(2);
}

// Node 20 is supported here (Lambdas run 22+): the SDK's 9-line notice about it is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const missing = useLocalServiceSettings();
if (missing) {
  console.error(`sweep:artifacts: ${missing}`);
  process.exit(2);
}
const { config, db } = services();
const store = new ArtifactStore(
  createS3Client(config),
  requiredBucket(config.artifactsBucket),
  config.presignExpirySeconds,
);
const report = await sweepOrphans(store, new ArtifactRepository(db, config.tableName), {
  apply: values.apply,
  minAgeSeconds,
});
const uploads = await sweepUploads(store, new UploadRepository(db, config.tableName), {
  apply: values.apply,
});
for (const key of report.orphans) console.log(`${values.apply ? 'deleted' : 'orphan '}  ${key}`);
for (const key of report.foreign) console.log(`foreign  ${key} (not a BuildState pointer; left alone)`);
console.log(
  `${report.scanned} objects scanned, ${report.orphans.length} orphan pointer(s)${values.apply ? ` deleted` : ' (dry run: add --apply to delete)'}, ${report.foreign.length} foreign`,
);

for (const u of uploads.abandoned)
  console.log(
    `${values.apply ? 'aborted' : 'abandoned'}  ${u.key} upload ${u.uploadId} (started ${u.createdAt})`,
  );
console.log(
  `${uploads.open} open multipart upload(s), ${uploads.abandoned.length} older than 7 days${values.apply ? ` aborted (${uploads.storeAborted} in the store; the local S3 server cannot abort, its parts stay on disk)` : ' (dry run)'}`,
);

function requiredBucket(bucket: string | undefined): string {
  if (bucket) return bucket;
  console.error('BUILDSTATE_ARTIFACTS_BUCKET must be set');
  process.exit(2);
}
