import { provenance } from '../../lib/compose/provenance';
import { dispatch } from '../../lib/http/dispatch';
import { buildIdParam, httpHandler, parseQuery } from '../../lib/http/handler';
import { PROVENANCE_ROUTES } from '../../lib/http/provenance.routes';
import { signingKeyQuerySchema } from '../../lib/provenance/provenance.view';

const getProvenance = httpHandler(async (req) => ({
  status: 200,
  body: await provenance().envelope(buildIdParam(req)),
}));

const signingKey = httpHandler(async (req) => {
  const { keyid } = parseQuery(req, signingKeyQuerySchema);
  const key = await provenance().publicKey(keyid);
  return {
    status: 200,
    text: key.pem,
    headers: {
      'content-type': 'application/x-pem-file',
      // A key under its keyid never changes; the current one changes when the key rotates.
      'cache-control': keyid ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
      'x-content-type-options': 'nosniff',
    },
  };
});

export const handler = dispatch('provenance', PROVENANCE_ROUTES, { getProvenance, signingKey });
