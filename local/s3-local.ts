/**
 * A local S3 server (s3rver, in this process) with the artifacts bucket created. Clients need
 * path-style addressing and the WHEN_REQUIRED checksum settings (lib/artifacts/s3-client.ts).
 * s3rver checks presigned URLs' expiry but not their signatures.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface S3Local {
  endpoint: string;
  bucket: string;
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
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket: options.bucket,
    stop: async () => {
      await server.close();
      if (ephemeral) rmSync(directory, { recursive: true, force: true });
    },
  };
}
