/**
 * KmsSigner through the real SDK client against a local KMS endpoint (the JSON protocol on
 * loopback): it asks GetPublicKey for the DER SPKI, and Sign with the SHA-256 digest of the PAE
 * (MessageType DIGEST, ECDSA_SHA_256), and its DER signature verifies over the PAE itself.
 */
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsSigner, keyIdOf } from '../../../../lib/provenance/signer';

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/0b6a3b7e-provenance';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = publicKey.export({ format: 'der', type: 'spki' });
const message = Buffer.from('DSSEv1 28 application/vnd.in-toto+json 2 {}');
const requests: { target: string; body: Record<string, string> }[] = [];

let server: Server;
let kms: KMSClient;
beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      const target = String(req.headers['x-amz-target']);
      const body = JSON.parse(text) as Record<string, string>;
      requests.push({ target, body });
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target === 'TrentService.GetPublicKey') {
        res.end(JSON.stringify({ KeyId: ARN, PublicKey: spki.toString('base64'), KeySpec: 'ECC_NIST_P256' }));
        return;
      }
      // KMS signs the digest it is given; this stand-in knows the message the test signs and
      // refuses any other digest, so a wrong digest fails the test instead of passing silently.
      const digest = createHash('sha256').update(message).digest('base64');
      if (body.Message !== digest) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ValidationException', message: 'unexpected digest' }));
        return;
      }
      const signature = sign('sha256', message, { key: privateKey, dsaEncoding: 'der' });
      res.end(
        JSON.stringify({
          KeyId: ARN,
          Signature: signature.toString('base64'),
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  kms = new KMSClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  kms.destroy();
  await new Promise((r) => server.close(r));
});

it('signs the digest of the message with ECDSA_SHA_256 and names the key by its SPKI hash', async () => {
  const signer = new KmsSigner(kms, ARN);
  const { keyid, signature } = await signer.sign(message);
  expect(keyid).toBe(createHash('sha256').update(spki).digest('hex'));
  expect(keyid).toBe(keyIdOf((await signer.current()).pem));
  expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
  const signs = requests.filter((r) => r.target === 'TrentService.Sign');
  expect(signs).toEqual([
    {
      target: 'TrentService.Sign',
      body: {
        KeyId: ARN,
        Message: createHash('sha256').update(message).digest('base64'),
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      },
    },
  ]);
  // The public key is asked for once per runtime.
  expect(requests.filter((r) => r.target === 'TrentService.GetPublicKey')).toHaveLength(1);
});
