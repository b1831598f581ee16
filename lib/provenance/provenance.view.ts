/** What the provenance routes answer (lib/http/provenance.routes.ts). */
import * as z from '../zod';

export const dsseEnvelopeSchema = z
  .strictObject({
    payloadType: z.literal('application/vnd.in-toto+json'),
    payload: z
      .string()
      .check(z.meta({ description: 'Base64 of the in-toto Statement v1 (SLSA provenance v1)' })),
    signatures: z.array(
      z.strictObject({
        keyid: z.string().check(z.meta({ description: 'Hex SHA-256 of the signing public key (DER SPKI)' })),
        sig: z
          .string()
          .check(
            z.meta({ description: 'Base64 of the DER ECDSA P-256/SHA-256 signature over the DSSE PAE' }),
          ),
      }),
    ),
  })
  .check(z.meta({ id: 'DsseEnvelope', description: 'A DSSE envelope (docs/PROVENANCE.md)' }));

export const signingKeyQuerySchema = z.strictObject({
  keyid: z.optional(
    z
      .string()
      .check(z.regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'))
      .check(
        z.meta({
          description: 'A key that signed before (any envelope names its keyid); default: the current key',
        }),
      ),
  ),
});
