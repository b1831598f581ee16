/**
 * DSSE (Dead Simple Signing Envelope) v1: the envelope and its pre-authentication encoding (PAE),
 * the exact bytes a signature covers. Spec: https://github.com/secure-systems-lab/dsse
 * (protocol.md). Pure: the service signs with it, `bldst provenance verify` checks with it.
 */

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  keyid: string;
  /** Base64 of the ASN.1 DER ECDSA signature (what KMS returns and cosign expects). */
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  /** Base64 (standard alphabet, padded) of the serialized statement. */
  payload: string;
  signatures: DsseSignature[];
}

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in decimal bytes. */
export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'utf8'),
    type,
    Buffer.from(` ${body.length} `, 'utf8'),
    body,
  ]);
}
