import { ARTIFACTS_ROUTES } from '../../lib/http/artifacts.routes';
import { dispatch } from '../../lib/http/dispatch';
import { handler as getArtifact } from './get-artifact';
import { handler as getResume } from './get-resume';
import { handler as listArtifacts } from './list-artifacts';
import { handler as registerArtifact } from './register-artifact';
import {
  abortUpload,
  completeUpload,
  confirmUploadParts,
  getUpload,
  presignUploadParts,
  startUpload,
} from './upload-handlers';
import { handler as verifyArtifact } from './verify-artifact';

export const handler = dispatch('artifacts', ARTIFACTS_ROUTES, {
  registerArtifact,
  listArtifacts,
  getArtifact,
  verifyArtifact,
  startUpload,
  presignUploadParts,
  confirmUploadParts,
  completeUpload,
  getUpload,
  abortUpload,
  // Resume hands out the input artifacts' download URLs: it needs the S3 presigner, so it lives here.
  getResume,
});
