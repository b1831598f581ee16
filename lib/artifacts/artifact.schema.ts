import { metadataSchema, stateReportSchema } from '../builds/build.schema';
import * as z from '../zod';
import { STORAGE_TYPES } from './artifact.model';

export const CHECKSUM_PATTERN = /^sha256:[0-9a-f]{64}$/;

/**
 * A safe file name: it becomes the last segment of an S3 key and of download paths, so no
 * slashes, no leading dot (no `.`/`..`), no control or shell-hostile characters.
 */
export const artifactNameSchema = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/,
      'must be a file name of 1-200 characters: letters, digits and . _ + - (no slashes), starting with a letter or digit',
    ),
  );

export const checksumSchema = z.pipe(
  z.pipe(
    z.string(),
    z.transform((value) => value.toLowerCase()),
  ),
  z.string().check(z.regex(CHECKSUM_PATTERN, 'must be sha256:<64 hex digits>')),
);

const artifactFields = {
  name: artifactNameSchema,
  storage_type: z.enum(STORAGE_TYPES),
  uri: z.optional(z.string().check(z.minLength(1)).check(z.maxLength(1024))),
  size_bytes: z.optional(
    z.number().check(z.int()).check(z.nonnegative()).check(z.lte(Number.MAX_SAFE_INTEGER)),
  ),
  checksum: z.optional(checksumSchema),
  format: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/,
          'must be a short format name such as qcow2, vmdk, raw, ova',
        ),
      ),
  ),
  metadata: z.optional(metadataSchema),
};

const URI_PATTERN = /^[a-z][a-z0-9+.-]*:\/\/\S+$|^\/\S*$/i;
const URI_MESSAGE = 'must be an absolute URI (s3://…, nfs://…, https://…) or an absolute path';

export const registerArtifactSchema = z
  .strictObject(artifactFields)
  .check(
    z.refine((a) => a.storage_type === 's3' || a.uri !== undefined, {
      message: 'uri is required for storage types other than s3 (BuildState manages only s3 uploads)',
      path: ['uri'],
    }),
  )
  .check(
    z.refine((a) => a.uri === undefined || URI_PATTERN.test(a.uri), { message: URI_MESSAGE, path: ['uri'] }),
  );
export type RegisterArtifactInput = z.infer<typeof registerArtifactSchema>;

/** Most artifacts one state report may name (each is one more item in the report's transaction). */
export const MAX_REPORT_ARTIFACTS = 20;

/**
 * POST /builds/{id}/states with `artifacts`: the report and the artifacts it produced, committed
 * together or not at all. Each is a registration as POST …/artifacts takes it, but an external
 * pointer: `uri` is required (a managed upload needs its own call, to get its upload URL).
 */
export const reportArtifactSchema = z.strictObject({
  ...artifactFields,
  uri: z.string().check(z.minLength(1)).check(z.maxLength(1024)).check(z.regex(URI_PATTERN, URI_MESSAGE)),
});

export const stateReportWithArtifactsSchema = z
  .extend(stateReportSchema, {
    artifacts: z.optional(z.array(reportArtifactSchema).check(z.maxLength(MAX_REPORT_ARTIFACTS))),
  })
  .check(
    z.superRefine((report, ctx) => {
      const seen = new Set<string>();
      for (const [n, a] of (report.artifacts ?? []).entries()) {
        if (seen.has(a.name))
          ctx.addIssue({
            code: 'custom',
            path: ['artifacts', n, 'name'],
            message: `'${a.name}' appears twice`,
          });
        seen.add(a.name);
      }
    }),
  );
export type StateReportWithArtifactsInput = z.infer<typeof stateReportWithArtifactsSchema>;
export type ReportArtifactInput = z.infer<typeof reportArtifactSchema>;

/** What a worker observed when it fetched an artifact the service cannot reach itself. */
export const verifyArtifactSchema = z._default(
  z.strictObject({
    checksum: z.optional(checksumSchema),
    size_bytes: z.optional(
      z.number().check(z.int()).check(z.nonnegative()).check(z.lte(Number.MAX_SAFE_INTEGER)),
    ),
  }),
  {},
);
export type VerifyArtifactInput = z.infer<typeof verifyArtifactSchema>;

export const stateCodeParamSchema = z.coerce.number().check(z.int()).check(z.gte(0)).check(z.lte(100));
