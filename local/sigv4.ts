/**
 * SigV4 verification for the local gateway, as API Gateway's IAM authorizer does it: the canonical
 * request is recomputed from what arrived (method, path, query, the signed headers, the body's
 * SHA-256) and signed with the local credentials; the signature must match, for service
 * execute-api in the configured region, within 5 minutes of now. The signer is the AWS SDK's own (@smithy/signature-v4).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../lib/auth/sha256';

export interface LocalAwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** The one region a signature may be scoped to (the stack's AWS_REGION), as in AWS. */
  region: string;
}

export interface SignedRequest {
  method: string;
  /** The path as received (still percent-encoded). */
  rawPath: string;
  query: URLSearchParams;
  /** Lower-cased names; repeated headers joined with commas. */
  headers: Record<string, string>;
  body: Buffer;
}

export type Verdict = { ok: true; accessKeyId: string } | { ok: false; message: string };

export const MAX_SKEW_MS = 5 * 60_000;
const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

export async function verifySigV4(
  req: SignedRequest,
  credentials: LocalAwsCredentials | undefined,
  now = new Date(),
): Promise<Verdict> {
  const fail = (message: string): Verdict => ({ ok: false, message });
  const m = AUTH.exec(req.headers.authorization?.trim() ?? '');
  if (!m) return fail('Authorization is not a well-formed AWS4-HMAC-SHA256 signature');
  const [, accessKeyId, day, region, service, signedList, signature] = m as unknown as string[];
  if (!credentials)
    return fail(
      'SigV4 is off locally: set BUILDSTATE_LOCAL_AWS_ACCESS_KEY_ID and BUILDSTATE_LOCAL_AWS_SECRET_ACCESS_KEY',
    );
  if (accessKeyId !== credentials.accessKeyId)
    return fail('The security token included in the request is invalid');
  if (service !== 'execute-api')
    return fail(`Credential should be scoped to correct service: 'execute-api', not '${service}'`);
  if (region !== credentials.region)
    return fail(
      `Credential should be scoped to a valid region, not '${region}'; this API is in '${credentials.region}'`,
    );
  const amzDate = req.headers['x-amz-date'] ?? '';
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when) return fail('X-Amz-Date is missing or not in the form 20261122T101500Z');
  const signedAt = new Date(Date.UTC(+when[1]!, +when[2]! - 1, +when[3]!, +when[4]!, +when[5]!, +when[6]!));
  if (amzDate.slice(0, 8) !== day) return fail('The credential scope date does not match X-Amz-Date');
  if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_SKEW_MS)
    return fail('Signature expired: X-Amz-Date is more than 5 minutes from the server time');
  const signedHeaders = signedList!.split(';');
  if (!signedHeaders.includes('host')) return fail("SignedHeaders must include 'host'");
  if (req.headers['x-amz-security-token'])
    return fail('Temporary credentials (X-Amz-Security-Token) are not accepted locally');
  // A client may sign the body's hash as a header; it must then be the hash of this body.
  const claimed = req.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== createHash('sha256').update(req.body).digest('hex'))
    return fail('X-Amz-Content-Sha256 does not match the body');

  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return fail(`Signed header '${name}' is missing`);
    headers[name] = value;
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of req.query) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const signer = new SignatureV4({
    service: 'execute-api',
    region: region!,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    sha256: Sha256,
    applyChecksum: false,
  });
  const expected = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: headers.host!,
      path: req.rawPath,
      query,
      headers,
      body: req.body.length ? req.body : undefined,
    },
    { signingDate: signedAt, signableHeaders: new Set(signedHeaders) },
  );
  const got = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1] ?? '';
  const same = timingSafeEqual(Buffer.from(got.padEnd(64, '0')), Buffer.from(signature!));
  return same
    ? { ok: true, accessKeyId: accessKeyId! }
    : fail('The request signature we calculated does not match the signature you provided');
}
