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
  fromOutcome,
  httpHandler,
  parseBody,
  pathParam,
  stateCodeParam,
} from '../../lib/http/handler';
import type { HttpRequest } from '../../lib/http/http';

const target = (req: HttpRequest) =>
  [buildIdParam(req), stateCodeParam(req), artifactNameParam(req)] as const;
const uploadId = (req: HttpRequest) => pathParam(req, 'upload_id', uploadIdSchema);

/** The upload to poll, named in a 202's Location. */
const uploadPath = (req: HttpRequest) => {
  const [build, code, name] = target(req);
  return `/builds/${encodeURIComponent(build)}/states/${code}/artifacts/${encodeURIComponent(name)}/uploads/${encodeURIComponent(uploadId(req))}`;
};

export const startUpload = httpHandler(async (req) =>
  fromOutcome(
    req,
    await uploadService().start(...target(req), parseBody(req, startUploadSchema), req.principal),
  ),
);

export const presignUploadParts = httpHandler(async (req) =>
  fromOutcome(
    req,
    await uploadService().presignParts(...target(req), uploadId(req), parseBody(req, presignPartsSchema)),
  ),
);

export const confirmUploadParts = httpHandler(async (req) =>
  fromOutcome(
    req,
    await uploadService().confirmParts(...target(req), uploadId(req), parseBody(req, confirmPartsSchema)),
  ),
);

export const completeUpload = httpHandler(async (req) => {
  const result = await uploadService().complete(...target(req), uploadId(req), req.principal);
  return fromOutcome(req, result, result.outcome === 'accepted' ? { location: uploadPath(req) } : {});
});

export const abortUpload = httpHandler(async (req) =>
  fromOutcome(req, await uploadService().abort(...target(req), uploadId(req))),
);

export const getUpload = httpHandler(async (req) =>
  fromOutcome(req, await uploadService().status(...target(req), uploadId(req), req.principal)),
);
