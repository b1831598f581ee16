/**
 * The artifacts group: registration, listing, download, verification and resume. Part of the route
 * table (lib/http/routes.ts).
 */
import { registerArtifactSchema, verifyArtifactSchema } from '../artifacts/artifact.schema';
import { artifactListSchema, artifactViewSchema } from '../artifacts/artifact.view';
import {
  confirmPartsSchema,
  partUrlsSchema,
  presignPartsSchema,
  startUploadSchema,
  uploadIdSchema,
  uploadViewSchema,
} from '../artifacts/upload.schema';
import { resumeViewSchema } from '../builds/build.view';
import { ARTIFACT_NAME, BUILD_ID, BUILD_PATH, STATE_CODE } from './path-params';
import { created, ok, type Route } from './route';

const buildPath = BUILD_PATH;
const artifactPath = { id: BUILD_ID, code: STATE_CODE, name: ARTIFACT_NAME };
const uploadPath = { ...artifactPath, upload_id: uploadIdSchema };
const UPLOADS = '/builds/{id}/states/{code}/artifacts/{name}/uploads';

export const ARTIFACTS_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/builds/{id}/resume',
    group: 'artifacts',
    handler: 'getResume',
    scope: 'read',
    summary: 'What a worker should do next',
    request: { path: buildPath },
    responses: {
      200: ok('The advice, with the artifacts to download', resumeViewSchema(artifactViewSchema)),
    },
    errors: ['not_found'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/states/{code}/artifacts',
    group: 'artifacts',
    handler: 'registerArtifact',
    scope: 'write',
    summary: 'Register an artifact of a state (managed upload or external pointer)',
    request: { path: { id: BUILD_ID, code: STATE_CODE }, body: registerArtifactSchema },
    responses: {
      201: created('The artifact; managed ones carry a presigned upload', artifactViewSchema),
      200: ok('The same registration again (idempotent)', artifactViewSchema),
    },
    errors: ['not_found', 'build_cancelled', 'state_not_reached', 'artifact_exists'],
  },
  {
    method: 'GET',
    path: '/builds/{id}/artifacts',
    group: 'artifacts',
    handler: 'listArtifacts',
    scope: 'read',
    summary: 'All artifacts of a build, grouped by state',
    request: { path: buildPath },
    responses: { 200: ok('The artifacts by state', artifactListSchema) },
    errors: ['not_found'],
  },
  {
    method: 'GET',
    path: '/builds/{id}/states/{code}/artifacts/{name}',
    group: 'artifacts',
    handler: 'getArtifact',
    scope: 'read',
    summary: 'One artifact, with a download URL for managed artifacts',
    request: { path: artifactPath },
    responses: { 200: ok('The artifact', artifactViewSchema) },
    errors: ['not_found'],
  },
  {
    method: 'POST',
    path: '/builds/{id}/states/{code}/artifacts/{name}/verify',
    group: 'artifacts',
    handler: 'verifyArtifact',
    scope: 'write',
    summary: 'Check size and checksum; mark the artifact verified',
    request: { path: artifactPath, body: verifyArtifactSchema, bodyOptional: true },
    responses: { 200: ok('The artifact, verified', artifactViewSchema) },
    errors: [
      'not_found',
      'artifact_not_uploaded',
      'artifact_missing',
      'checksum_mismatch',
      'checksum_required',
    ],
  },
  {
    method: 'POST',
    path: UPLOADS,
    group: 'artifacts',
    handler: 'startUpload',
    scope: 'write',
    summary: 'Register a managed artifact and start (or continue) its multipart upload',
    request: { path: artifactPath, body: startUploadSchema },
    responses: {
      201: created('A new upload', uploadViewSchema),
      200: ok('The open upload of the same file, with the parts already confirmed', uploadViewSchema),
    },
    errors: ['not_found', 'build_cancelled', 'state_not_reached', 'artifact_exists', 'conflict'],
  },
  {
    method: 'POST',
    path: `${UPLOADS}/{upload_id}/urls`,
    group: 'artifacts',
    handler: 'presignUploadParts',
    scope: 'write',
    summary: "Presigned part URLs, each binding its part's length and CRC32",
    request: { path: uploadPath, body: presignPartsSchema },
    responses: { 200: ok('One URL per part asked for', partUrlsSchema) },
    errors: ['not_found', 'conflict'],
  },
  {
    method: 'POST',
    path: `${UPLOADS}/{upload_id}/parts`,
    group: 'artifacts',
    handler: 'confirmUploadParts',
    scope: 'write',
    summary: 'Record parts S3 accepted (a re-run skips them)',
    request: { path: uploadPath, body: confirmPartsSchema },
    responses: { 200: ok('The upload with its confirmed parts', uploadViewSchema) },
    errors: ['not_found', 'conflict'],
  },
  {
    method: 'POST',
    path: `${UPLOADS}/{upload_id}/complete`,
    group: 'artifacts',
    handler: 'completeUpload',
    scope: 'write',
    summary:
      "Start the completion: a job assembles the parts (S3 checks the whole file's CRC32) and verifies the artifact; poll the upload",
    request: { path: uploadPath },
    responses: {
      200: ok('The artifact, verified (a completion asked again after it ended)', artifactViewSchema),
      202: {
        ...ok('The upload, completing: poll it (Location) until verified or failed', uploadViewSchema, [
          'Location',
        ]),
        outcome: 'accepted',
      },
    },
    errors: ['not_found', 'conflict', 'checksum_mismatch'],
  },
  {
    method: 'GET',
    path: `${UPLOADS}/{upload_id}`,
    group: 'artifacts',
    handler: 'getUpload',
    scope: 'read',
    summary:
      'The upload and its status (open, completing, verified, failed, aborted); restarts a lost completion job',
    request: { path: uploadPath },
    responses: { 200: ok('The upload', uploadViewSchema) },
    errors: ['not_found', 'conflict'],
  },
  {
    method: 'DELETE',
    path: `${UPLOADS}/{upload_id}`,
    group: 'artifacts',
    handler: 'abortUpload',
    scope: 'write',
    summary: 'Abort an open upload and free its parts',
    request: { path: uploadPath },
    responses: { 200: ok('The upload, aborted', uploadViewSchema) },
    errors: ['not_found', 'conflict'],
  },
];
