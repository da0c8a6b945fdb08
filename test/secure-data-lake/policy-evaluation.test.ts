import { runSimulation, Simulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DataZone, SecureDataLake, SecureUploadApi } from '../../src';
import { ALL_ZONES } from '../../src/secure-data-lake/zones';
import { ACCOUNT, REGION, resolveTemplate } from '../support/resolve-template';

/**
 * The bucket, key and identity policies of a synthesized lake, evaluated with an IAM policy
 * simulator (moto evaluates none of them). Each zone grant allows its zone and nothing else; the
 * bucket policies deny non-TLS requests and foreign encryption; the key is usable only via S3.
 */
const app = new App();
const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: REGION } });
const lake = new SecureDataLake(stack, 'Lake');
const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
lake.grantRead(reader, DataZone.CURATED);
lake.grantWrite(writer, DataZone.RAW, 'incoming/*');
const uploads = new SecureUploadApi(stack, 'Uploads', { lake });
const resolved = resolveTemplate(Template.fromStack(stack).toJSON());

const id = (c: any) => stack.getLogicalId(c.node.defaultChild);
const bucketId = (zone: DataZone) => id(lake.bucket(zone));
const keyId = id(lake.encryptionKey);
const keyArn = resolved.arnOf(keyId);
const foreignKeyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-foreign`;
const roleArn = (role: iam.IRole) => resolved.arnOf(id(role));
const uploadRole = uploads.handler.role!;

async function decide(principal: iam.IRole, action: string, resource: string, context: Record<string, string | string[]> = {}) {
  const isKms = action.startsWith('kms:');
  const bucket = isKms ? undefined : ALL_ZONES.find((z) => resource.startsWith(resolved.arnOf(bucketId(z))));
  const simulation: Simulation = {
    identityPolicies: resolved.identityPoliciesOf(id(principal)),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: isKms ? resolved.keyPolicyOf(keyId) : bucket ? resolved.bucketPolicyOf(bucketId(bucket)) : undefined,
    request: {
      principal: roleArn(principal),
      action,
      resource: { accountId: ACCOUNT, resource },
      contextVariables: { 'aws:SecureTransport': 'true', ...context },
    },
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(`simulation error: ${JSON.stringify(result.errors)}`);
  }
  return result.overallResult;
}

const objectIn = (zone: DataZone, key: string) => `${resolved.arnOf(bucketId(zone))}/${key}`;

describe('zone grants (identity + bucket policies)', () => {
  test('grantRead allows reading its zone only, and never writing or deleting', async () => {
    expect(await decide(reader, 's3:GetObject', objectIn(DataZone.CURATED, 'ds/v1/train.jsonl'))).toBe('Allowed');
    expect(await decide(reader, 's3:ListBucket', resolved.arnOf(bucketId(DataZone.CURATED)))).toBe('Allowed');
    for (const zone of [DataZone.RAW, DataZone.CLEAN, DataZone.QUARANTINE, DataZone.MODELS]) {
      expect(await decide(reader, 's3:GetObject', objectIn(zone, 'x.json'))).toBe('ImplicitlyDenied');
    }
    expect(await decide(reader, 's3:PutObject', objectIn(DataZone.CURATED, 'x.json'))).toBe('ImplicitlyDenied');
    expect(await decide(reader, 's3:DeleteObject', objectIn(DataZone.CURATED, 'x.json'))).toBe('ImplicitlyDenied');
  });

  test('grantWrite allows putting under its pattern only, never reading or deleting', async () => {
    expect(await decide(writer, 's3:PutObject', objectIn(DataZone.RAW, 'incoming/a.json'))).toBe('Allowed');
    expect(await decide(writer, 's3:PutObject', objectIn(DataZone.RAW, 'elsewhere/a.json'))).toBe('ImplicitlyDenied');
    expect(await decide(writer, 's3:PutObject', objectIn(DataZone.CLEAN, 'incoming/a.json'))).toBe('ImplicitlyDenied');
    expect(await decide(writer, 's3:GetObject', objectIn(DataZone.RAW, 'incoming/a.json'))).toBe('ImplicitlyDenied');
    expect(await decide(writer, 's3:DeleteObject', objectIn(DataZone.RAW, 'incoming/a.json'))).toBe('ImplicitlyDenied');
    expect(await decide(writer, 's3:DeleteObjectVersion', objectIn(DataZone.RAW, 'incoming/a.json'))).toBe('ImplicitlyDenied');
  });

  test('the upload handler role may put under uploads/ in the raw zone and do nothing else', async () => {
    const callerKey = 'uploads/7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1/2026/03/01/u.json';
    const withKmsFields = { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': keyArn };
    expect(await decide(uploadRole, 's3:PutObject', objectIn(DataZone.RAW, callerKey), withKmsFields)).toBe('Allowed');
    expect(await decide(uploadRole, 's3:PutObject', objectIn(DataZone.RAW, 'other/x.json'))).toBe('ImplicitlyDenied');
    expect(await decide(uploadRole, 's3:GetObject', objectIn(DataZone.RAW, callerKey))).toBe('ImplicitlyDenied');
    expect(await decide(uploadRole, 's3:PutObject', objectIn(DataZone.CLEAN, callerKey))).toBe('ImplicitlyDenied');
  });
});

describe('bucket policies', () => {
  const put = objectIn(DataZone.RAW, 'incoming/a.json');

  test('deny requests without TLS, and TLS older than 1.2', async () => {
    expect(await decide(writer, 's3:PutObject', put, { 'aws:SecureTransport': 'false' })).toBe('ExplicitlyDenied');
    expect(await decide(reader, 's3:GetObject', objectIn(DataZone.CURATED, 'a'), { 'aws:SecureTransport': 'false' })).toBe('ExplicitlyDenied');
    expect(await decide(writer, 's3:PutObject', put, { 's3:TlsVersion': '1.1' })).toBe('ExplicitlyDenied');
    expect(await decide(writer, 's3:PutObject', put, { 's3:TlsVersion': '1.3' })).toBe('Allowed');
  });

  test('deny uploads that name a foreign KMS key or another encryption; allow the lake key or none', async () => {
    expect(await decide(writer, 's3:PutObject', put, { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': foreignKeyArn })).toBe('ExplicitlyDenied');
    expect(await decide(writer, 's3:PutObject', put, { 's3:x-amz-server-side-encryption': 'AES256' })).toBe('ExplicitlyDenied');
    expect(await decide(writer, 's3:PutObject', put, { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': keyArn })).toBe('Allowed');
    expect(await decide(writer, 's3:PutObject', put)).toBe('Allowed');
  });
});

describe('key policy', () => {
  test('the data key decrypts for a granted role only through S3 of this region', async () => {
    const viaS3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com`, 'kms:CallerAccount': ACCOUNT };
    expect(await decide(reader, 'kms:Decrypt', keyArn, viaS3)).toBe('Allowed');
    expect(await decide(reader, 'kms:Decrypt', keyArn, { 'kms:CallerAccount': ACCOUNT })).toBe('ExplicitlyDenied');
    expect(await decide(reader, 'kms:Decrypt', keyArn, { 'kms:ViaService': `sqs.${REGION}.amazonaws.com`, 'kms:CallerAccount': ACCOUNT })).toBe('ExplicitlyDenied');
    expect(await decide(reader, 'kms:Decrypt', keyArn, { 'kms:ViaService': `s3.${REGION}.amazonaws.com`, 'kms:CallerAccount': '222222222222' })).toBe('ExplicitlyDenied');
    // The writer was granted encrypt-side actions only for its zone; reading needs s3:GetObject it lacks.
    expect(await decide(writer, 'kms:GenerateDataKey', keyArn, viaS3)).toBe('Allowed');
    expect(await decide(writer, 'kms:ScheduleKeyDeletion', keyArn, viaS3)).toBe('ImplicitlyDenied');
  });
});
