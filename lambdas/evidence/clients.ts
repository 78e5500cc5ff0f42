/** The clients evidence collection uses: the evidence bucket and Systems Manager Run Command. */
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { type ClientOverrides, clientConfig } from '../clients/config.js';
import { namedCalls } from '../clients/named-calls.js';

export type EvidenceClients = { s3: S3Client; ssm: SSMClient };

export function evidenceClients(overrides: ClientOverrides = {}): EvidenceClients {
  const config = clientConfig(overrides);
  return {
    // An endpoint of our own (the simulation, an AWS-compatible one) serves buckets by path.
    s3: namedCalls(new S3Client({ ...config, forcePathStyle: overrides.endpoint !== undefined })),
    ssm: namedCalls(new SSMClient(config)),
  };
}
