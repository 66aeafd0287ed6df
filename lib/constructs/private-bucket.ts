import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * What every bucket of the stack shares: no public access, ACLs off (the
 * bucket owns every object), TLS 1.2 or newer only. Each bucket adds its own
 * encryption, versioning, lifecycle and access logs.
 */
export const PRIVATE_BUCKET = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
} as const satisfies s3.BucketProps;
