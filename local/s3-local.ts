/**
 * A local S3 server (s3rver, in this process) with the artifacts bucket created. Clients need
 * path-style addressing and the WHEN_REQUIRED checksum settings (lib/artifacts/s3-client.ts).
 * s3rver checks presigned URLs' expiry but not their signatures. Clients talk to a small front
 * (./s3-checksums.ts) that refuses bodies not matching their x-amz-checksum-* header, checks a
 * multipart completion's FULL_OBJECT CRC32 and reports the checksums S3 would keep, as S3 does.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import S3rver from 's3rver';
import { type FilesystemStore, installFastAssembly } from './s3-assemble';
import { type FrontStats, startChecksumFront } from './s3-checksums';

export interface S3Local {
  endpoint: string;
  bucket: string;
  /** UploadPart requests the local store accepted (tests count what a resumed upload re-sent). */
  stats: FrontStats;
  stop(): Promise<void>;
}

export async function startS3Local(options: { directory?: string; bucket: string }): Promise<S3Local> {
  const ephemeral = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'buildstate-s3-'));
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    directory,
    silent: true,
    configureBuckets: [{ name: options.bucket }],
  });
  const store = (server as unknown as { store: FilesystemStore }).store;
  installFastAssembly(store);
  const { port } = await server.run();
  // s3rver 3.7.1's filesystem store keeps part n of an upload at <dir>/<bucket>/._S3rver_uploads/<id>/<n>.
  const front = await startChecksumFront(`http://127.0.0.1:${port}`, {
    partFile: (bucket, uploadId, partNumber) =>
      join(directory, basename(bucket), '._S3rver_uploads', basename(uploadId), String(partNumber)),
    objectFile: (bucket, key) => store.getResourcePath(basename(bucket), key, 'object'),
  });
  return {
    endpoint: front.endpoint,
    bucket: options.bucket,
    stats: front.stats,
    stop: async () => {
      await front.stop();
      await server.close();
      if (ephemeral) rmSync(directory, { recursive: true, force: true });
    },
  };
}
