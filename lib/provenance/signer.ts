/**
 * One signer interface, two implementations chosen by configuration: a KMS asymmetric key in AWS
 * (ECC_NIST_P256, ECDSA_SHA_256) and a key file in the data folder locally (node:crypto). Both
 * sign with ECDSA P-256 over SHA-256 and return the ASN.1 DER signature, so an envelope signed by
 * either verifies the same way (docs/PROVENANCE.md).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KMSClient } from '@aws-sdk/client-kms';
import { GetPublicKeyCommand, SignCommand } from '@aws-sdk/client-kms';

export interface SigningKey {
  /** Hex SHA-256 of the public key's DER SubjectPublicKeyInfo: the envelope's `keyid`. */
  keyid: string;
  /** The public key, PEM (SPKI). */
  pem: string;
}

export interface Signer {
  /** The key that signs now. */
  current(): Promise<SigningKey>;
  /** The DER ECDSA P-256/SHA-256 signature of `message`, and the key that made it. */
  sign(message: Buffer): Promise<{ keyid: string; signature: Buffer }>;
}

/** A key's id: hex SHA-256 of its DER SPKI (the same for a KMS key and a local one). */
export function keyIdOf(pemOrDer: string | Buffer): string {
  const der = createPublicKey(
    typeof pemOrDer === 'string' ? pemOrDer : { key: pemOrDer, format: 'der', type: 'spki' },
  ).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(der).digest('hex');
}

const pemOfDer = (der: Buffer) =>
  createPublicKey({ key: der, format: 'der', type: 'spki' })
    .export({ format: 'pem', type: 'spki' })
    .toString();

/**
 * Locally: a P-256 private key in a PEM file (mode 0600), made on first use. The file is read on
 * every use, so replacing or removing it rotates the key at once (the old public key stays in the
 * bucket under its keyid: lib/provenance/provenance.service.ts).
 */
export class FileSigner implements Signer {
  constructor(private readonly file: string) {}

  private privateKey() {
    let pem: string;
    try {
      pem = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      mkdirSync(dirname(this.file), { recursive: true });
      try {
        // wx: two first uses at once keep the first key written.
        writeFileSync(this.file, privateKey.export({ format: 'pem', type: 'pkcs8' }), {
          mode: 0o600,
          flag: 'wx',
        });
      } catch (raced) {
        if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      }
      pem = readFileSync(this.file, 'utf8');
    }
    return createPrivateKey(pem);
  }

  async current(): Promise<SigningKey> {
    const der = createPublicKey(this.privateKey()).export({ format: 'der', type: 'spki' });
    return { keyid: keyIdOf(der), pem: pemOfDer(der) };
  }

  async sign(message: Buffer) {
    const key = this.privateKey();
    const der = createPublicKey(key).export({ format: 'der', type: 'spki' });
    return { keyid: keyIdOf(der), signature: sign('sha256', message, { key, dsaEncoding: 'der' }) };
  }
}

/**
 * In AWS: a KMS asymmetric key. KMS signs the SHA-256 digest (MessageType DIGEST: no 4 KB limit on
 * the statement) and returns the DER signature; GetPublicKey returns the DER SPKI.
 */
export class KmsSigner implements Signer {
  private key: Promise<SigningKey> | undefined;

  constructor(
    private readonly kms: KMSClient,
    private readonly keyArn: string,
  ) {}

  current(): Promise<SigningKey> {
    this.key ??= this.kms.send(new GetPublicKeyCommand({ KeyId: this.keyArn })).then((res) => {
      const der = Buffer.from(res.PublicKey ?? new Uint8Array());
      return { keyid: keyIdOf(der), pem: pemOfDer(der) };
    });
    this.key.catch(() => {
      this.key = undefined;
    });
    return this.key;
  }

  async sign(message: Buffer) {
    const { keyid } = await this.current();
    const res = await this.kms.send(
      new SignCommand({
        KeyId: this.keyArn,
        Message: createHash('sha256').update(message).digest(),
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    return { keyid, signature: Buffer.from(res.Signature ?? new Uint8Array()) };
  }
}
