/**
 * The provenance group: a completed build's signed SLSA provenance and the public keys that
 * verify it (docs/PROVENANCE.md). Part of the route table (lib/http/routes.ts).
 */
import { dsseEnvelopeSchema, signingKeyQuerySchema } from '../provenance/provenance.view';
import { BUILD_PATH } from './path-params';
import { ok, type Route } from './route';

export const PROVENANCE_ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/builds/{id}/provenance',
    group: 'provenance',
    handler: 'getProvenance',
    scope: 'read',
    summary: "A completed build's SLSA v1 provenance, a signed DSSE envelope of an in-toto statement",
    request: { path: BUILD_PATH },
    responses: { 200: ok("The envelope, as stored beside the build's artifacts", dsseEnvelopeSchema) },
    errors: ['not_found', 'not_completed'],
  },
  {
    method: 'GET',
    path: '/.well-known/buildstate-signing-key.pem',
    group: 'provenance',
    handler: 'signingKey',
    scope: 'none',
    summary:
      'The public key (PEM, SPKI) that verifies provenance envelopes: the current one, or any earlier one by keyid',
    request: { query: signingKeyQuerySchema },
    responses: {
      200: {
        description: 'The public key, PEM',
        contentType: 'application/x-pem-file',
        headers: ['Cache-Control'],
      },
    },
    errors: ['not_found'],
  },
];
