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
 * bucket policies deny non-TLS requests and foreign encryption; the key is usable only via S3, and
 * only by the principals the lake granted (an over-privileged role of the account gets nothing).
 */
const app = new App();
const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: REGION } });
const admin = iam.Role.fromRoleArn(stack, 'BreakGlass', `arn:aws:iam::${ACCOUNT}:role/break-glass`);
const lake = new SecureDataLake(stack, 'Lake', { administrators: [admin] });
const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
lake.grantRead(reader, DataZone.CURATED);
lake.grantWrite(writer, DataZone.RAW, 'incoming/*');
const uploads = new SecureUploadApi(stack, 'Uploads', { lake });
// A role of the account with s3:* and kms:* on everything, that no construct granted anything.
const intruder = new iam.Role(stack, 'Intruder', { assumedBy: new iam.AccountRootPrincipal() });
intruder.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*', 'kms:*'], resources: ['*'] }));
const resolved = resolveTemplate(Template.fromStack(stack).toJSON());

const id = (c: any) => stack.getLogicalId(c.node.defaultChild);
const bucketId = (zone: DataZone) => id(lake.bucket(zone));
const keyId = id(lake.encryptionKey);
const keyArn = resolved.arnOf(keyId);
const hmacKeyId = id(lake.pseudonymizationKey);
const hmacKeyArn = resolved.arnOf(hmacKeyId);
const foreignKeyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-foreign`;
const uploadRole = uploads.handler.role!;

/** Who makes a request: a role of the template, or an ARN with identity policies of the test's own. */
interface Subject { readonly arn: string; readonly identityPolicies: { name: string; policy: any }[] }
const everything = { name: 'AdministratorAccess', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } };
const deployer: Subject = { arn: `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`, identityPolicies: [everything] };
const breakGlass: Subject = { arn: admin.roleArn, identityPolicies: [everything] };
const subject = (s: iam.IRole | Subject): Subject => ('identityPolicies' in s ? s : {
  arn: resolved.arnOf(id(s)),
  identityPolicies: resolved.identityPoliciesOf(id(s)),
});

async function decide(principal: iam.IRole | Subject, action: string, resource: string, context: Record<string, string | string[]> = {}) {
  const who = subject(principal);
  const isKms = action.startsWith('kms:');
  const inZone = (z: DataZone) => resource === resolved.arnOf(bucketId(z)) || resource.startsWith(`${resolved.arnOf(bucketId(z))}/`);
  const bucket = isKms ? undefined : ALL_ZONES.find(inZone);
  const keyPolicy = isKms ? resolved.keyPolicyOf(resource === hmacKeyArn ? hmacKeyId : keyId) : undefined;
  const simulation: Simulation = {
    identityPolicies: who.identityPolicies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: keyPolicy ?? (bucket ? resolved.bucketPolicyOf(bucketId(bucket)) : undefined),
    request: {
      principal: who.arn,
      action,
      resource: { accountId: ACCOUNT, resource },
      // AWS sets aws:PrincipalArn on every request; the simulator needs it given.
      contextVariables: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': who.arn, ...(isKms ? { 'kms:CallerAccount': ACCOUNT } : {}), ...context },
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
    expect(await decide(writer, 's3:DeleteObjectVersion', objectIn(DataZone.RAW, 'incoming/a.json'))).toBe('ExplicitlyDenied');
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

describe('keys and buckets serve only the principals the lake granted (security.md, "Keys serve only their users")', () => {
  const viaS3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };
  const zoneArn = (zone: DataZone) => resolved.arnOf(bucketId(zone));
  const configuration = ['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutBucketVersioning', 's3:PutLifecycleConfiguration', 's3:PutEncryptionConfiguration', 's3:PutBucketLogging'];

  test('an over-privileged role (s3:*, kms:* on *) that no construct granted cannot decrypt, MAC, delete versions or loosen the policies', async () => {
    for (const action of ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptFrom']) {
      expect([action, await decide(intruder, action, keyArn, viaS3)]).toEqual([action, 'ExplicitlyDenied']);
    }
    // Pseudonymizing candidate identifiers (and matching them) needs the HMAC key.
    expect(await decide(intruder, 'kms:GenerateMac', hmacKeyArn)).toBe('ExplicitlyDenied');
    expect(await decide(intruder, 'kms:VerifyMac', hmacKeyArn)).toBe('ExplicitlyDenied');
    // It could lift the key policy's statements with kms:PutKeyPolicy: denied too.
    expect(await decide(intruder, 'kms:PutKeyPolicy', keyArn)).toBe('ExplicitlyDenied');
    expect(await decide(intruder, 'kms:PutKeyPolicy', hmacKeyArn)).toBe('ExplicitlyDenied');
    for (const zone of ALL_ZONES) {
      expect([zone, await decide(intruder, 's3:DeleteObjectVersion', `${zoneArn(zone)}/any/key.json`)]).toEqual([zone, 'ExplicitlyDenied']);
      for (const action of configuration) {
        expect([zone, action, await decide(intruder, action, zoneArn(zone))]).toEqual([zone, action, 'ExplicitlyDenied']);
      }
    }
    // S3 lets it ask for an object (the bucket policies deny no reads), but S3 cannot decrypt
    // the object for it: the kms:Decrypt above is what a GetObject of an SSE-KMS object needs.
    expect(await decide(intruder, 's3:GetObject', `${zoneArn(DataZone.CLEAN)}/hearing/records/x.json`)).toBe('Allowed');
    // Key administration stays with the account's IAM policies (never an unmanageable key).
    expect(await decide(intruder, 'kms:EnableKeyRotation', keyArn)).toBe('Allowed');
    expect(await decide(intruder, 'kms:DescribeKey', keyArn)).toBe('Allowed');
  });

  test('the granted roles keep their key use (through S3 for the data key)', async () => {
    expect(await decide(reader, 'kms:Decrypt', keyArn, viaS3)).toBe('Allowed');
    expect(await decide(writer, 'kms:GenerateDataKey', keyArn, viaS3)).toBe('Allowed');
    expect(await decide(uploadRole, 'kms:GenerateDataKey', keyArn, viaS3)).toBe('Allowed');
    // Only grantPseudonymize gives the HMAC key.
    expect(await decide(uploadRole, 'kms:GenerateMac', hmacKeyArn)).toBe('Allowed');
    expect(await decide(reader, 'kms:GenerateMac', hmacKeyArn)).not.toBe('Allowed');
    expect(await decide(writer, 'kms:GenerateMac', hmacKeyArn)).not.toBe('Allowed');
    expect(await decide(reader, 's3:DeleteObjectVersion', `${zoneArn(DataZone.CURATED)}/a.json`)).toBe('ExplicitlyDenied');
  });

  test('the deployment role (CloudFormation execution role) may change the buckets and key policies, and neither use the keys nor delete versions', async () => {
    for (const zone of ALL_ZONES) {
      for (const action of configuration) {
        expect([zone, action, await decide(deployer, action, zoneArn(zone))]).toEqual([zone, action, 'Allowed']);
      }
      expect(await decide(deployer, 's3:DeleteObjectVersion', `${zoneArn(zone)}/a.json`)).toBe('ExplicitlyDenied');
    }
    expect(await decide(deployer, 'kms:PutKeyPolicy', keyArn)).toBe('Allowed');
    expect(await decide(deployer, 'kms:PutKeyPolicy', hmacKeyArn)).toBe('Allowed');
    expect(await decide(deployer, 'kms:Decrypt', keyArn, viaS3)).toBe('ExplicitlyDenied');
    expect(await decide(deployer, 'kms:GenerateMac', hmacKeyArn)).toBe('ExplicitlyDenied');
  });

  test('a named administrator (break-glass) may use the keys, delete versions and change the configuration', async () => {
    expect(await decide(breakGlass, 'kms:Decrypt', keyArn, viaS3)).toBe('Allowed');
    expect(await decide(breakGlass, 'kms:GenerateMac', hmacKeyArn)).toBe('Allowed');
    expect(await decide(breakGlass, 'kms:PutKeyPolicy', keyArn)).toBe('Allowed');
    expect(await decide(breakGlass, 's3:DeleteObjectVersion', `${zoneArn(DataZone.RAW)}/uploads/x.json`)).toBe('Allowed');
    expect(await decide(breakGlass, 's3:PutBucketPolicy', zoneArn(DataZone.RAW))).toBe('Allowed');
    // Still only through S3 of this region for the data key.
    expect(await decide(breakGlass, 'kms:Decrypt', keyArn)).toBe('ExplicitlyDenied');
  });
});
