/** The multipart upload routes (lib/artifacts/upload.service.ts): parse, one call, the answer. */
import {
  confirmPartsSchema,
  presignPartsSchema,
  startUploadSchema,
  uploadIdSchema,
} from '../../lib/artifacts/upload.schema';
import { uploadService } from '../../lib/compose/uploads';
import {
  artifactNameParam,
  buildIdParam,
  httpHandler,
  parseBody,
  pathParam,
  stateCodeParam,
} from '../../lib/http/handler';
import type { HttpRequest } from '../../lib/http/http';

const target = (req: HttpRequest) =>
  [buildIdParam(req), stateCodeParam(req), artifactNameParam(req)] as const;
const uploadId = (req: HttpRequest) => pathParam(req, 'upload_id', uploadIdSchema);

export const startUpload = httpHandler(async (req) =>
  uploadService().start(...target(req), parseBody(req, startUploadSchema), req.principal),
);

export const presignUploadParts = httpHandler(async (req) =>
  uploadService().presignParts(...target(req), uploadId(req), parseBody(req, presignPartsSchema)),
);

export const confirmUploadParts = httpHandler(async (req) =>
  uploadService().confirmParts(...target(req), uploadId(req), parseBody(req, confirmPartsSchema)),
);

export const completeUpload = httpHandler(async (req) =>
  uploadService().complete(...target(req), uploadId(req), req.principal),
);

export const abortUpload = httpHandler(async (req) => uploadService().abort(...target(req), uploadId(req)));

export const getUpload = httpHandler(async (req) =>
  uploadService().status(...target(req), uploadId(req), req.principal),
);
