import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { localSigningKeyId, SIGNATURE_ALGORITHM, SIGNING_KEY_FILE_ENV, SIGNING_KEY_ID_ENV, type DigestSigner } from '../core/archive-digest';

export { SIGNING_KEY_FILE_ENV, SIGNING_KEY_ID_ENV };

/**
 * Signs with a KMS asymmetric key. KMS is given the SHA-256 of the bytes
 * (MessageType DIGEST), which is exactly what ECDSA_SHA_256 signs, so the
 * signature verifies against the bytes with node:crypto like a local one.
 * The private key never leaves KMS; every signature is in CloudTrail.
 */
export class KmsDigestSigner implements DigestSigner {
  constructor(
    readonly keyId: string,
    private readonly client: KMSClient = new KMSClient({}),
  ) {}

  async sign(message: Buffer): Promise<Buffer> {
    const { Signature } = await this.client.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: createHash('sha256').update(message).digest(),
        MessageType: 'DIGEST',
        SigningAlgorithm: SIGNATURE_ALGORITHM,
      }),
    );
    if (!Signature) throw new Error('KMS answered Sign without a signature');
    return Buffer.from(Signature);
  }
}

/** Signs with a local ECDSA P-256 key pair (the local stack's stand-in for KMS). */
export class LocalKeyDigestSigner implements DigestSigner {
  readonly keyId: string;
  private readonly key: KeyObject;

  constructor(privateKeyPem: string) {
    this.key = createPrivateKey(privateKeyPem);
    if (this.key.asymmetricKeyType !== 'ec' || this.key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error('the local digest signing key must be an ECDSA P-256 key');
    }
    this.keyId = localSigningKeyId(createPublicKey(this.key));
  }

  async sign(message: Buffer): Promise<Buffer> {
    return sign('sha256', message, this.key);
  }
}

/** The signer the environment names: KMS on AWS, the local key file locally. */
export function digestSignerFromEnv(env: NodeJS.ProcessEnv = process.env): DigestSigner {
  if (env[SIGNING_KEY_ID_ENV]) return new KmsDigestSigner(env[SIGNING_KEY_ID_ENV]);
  if (env[SIGNING_KEY_FILE_ENV]) return new LocalKeyDigestSigner(readFileSync(env[SIGNING_KEY_FILE_ENV], 'utf8'));
  throw new Error(`neither ${SIGNING_KEY_ID_ENV} (KMS) nor ${SIGNING_KEY_FILE_ENV} (local key) is set: digests cannot be signed`);
}

/** The public half of the KMS signing key, for verification (kms:GetPublicKey). */
export async function kmsPublicKey(keyId: string, client: KMSClient = new KMSClient({})): Promise<{ keyId: string; publicKey: KeyObject }> {
  const { PublicKey, KeyId, KeySpec, KeyUsage } = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (!PublicKey) throw new Error(`KMS returned no public key for ${keyId}`);
  if (KeySpec !== 'ECC_NIST_P256' || KeyUsage !== 'SIGN_VERIFY') throw new Error(`${keyId} is not an ECC_NIST_P256 SIGN_VERIFY key`);
  return { keyId: KeyId ?? keyId, publicKey: createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' }) };
}
