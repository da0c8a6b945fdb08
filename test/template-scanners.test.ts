import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CHECKOV_ACCEPTED } from './support/checkov-accepted';
import {
  CfnLintResult, CheckovReport, checkovReport, expectCfnLintClean, formatCheckovFinding, pathMatches, runCfnLint,
  validateAcceptances,
} from './support/template-scanners';

/** A hand-written template that both tools should find nothing wrong with. */
const CLEAN = {
  AWSTemplateFormatVersion: '2010-09-09',
  Parameters: { LogBucketName: { Type: 'String' } },
  Resources: {
    DataKey: {
      Type: 'AWS::KMS::Key',
      Properties: {
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [{
            Effect: 'Allow',
            Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
            Action: 'kms:*',
            Resource: '*',
          }],
        },
      },
      UpdateReplacePolicy: 'Retain',
      DeletionPolicy: 'Retain',
    },
    DataBucket: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['DataKey', 'Arn'] } },
            BucketKeyEnabled: true,
          }],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: 'LogBucketName' }, LogFilePrefix: 'data/' },
      },
      UpdateReplacePolicy: 'Retain',
      DeletionPolicy: 'Retain',
      Metadata: { 'aws:cdk:path': 'Clean/DataBucket/Resource' },
    },
  },
};

/** cfn-lint must report E3002 (unknown property) here. */
const INVALID = {
  Resources: {
    Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketNam: 'typo-in-property-name' } },
  },
};

/** Valid CloudFormation, but insecure: checkov must fail it. */
const INSECURE = {
  Resources: {
    Plain: { Type: 'AWS::S3::Bucket', Metadata: { 'aws:cdk:path': 'Insecure/Plain/Resource' } },
    Queue: { Type: 'AWS::SQS::Queue', Metadata: { 'aws:cdk:path': 'Insecure/Queue/Resource' } },
    NoRotation: { Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: false } },
  },
};

/** A real CDK app with a Lambda code asset, synthesized to a cdk.out directory. */
function synthCdkApp(outdir: string): void {
  const assetDir = fs.mkdtempSync(path.join(os.tmpdir(), 'scanner-asset-'));
  fs.writeFileSync(path.join(assetDir, 'index.js'), 'exports.handler = async () => ({ statusCode: 200 });\n');
  const app = new App({ outdir });
  const stack = new Stack(app, 'CdkProbe');
  const bucket = new s3.Bucket(stack, 'Bucket', {
    encryption: s3.BucketEncryption.KMS,
    enforceSSL: true,
    versioned: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromAsset(assetDir),
  });
  bucket.grantRead(fn);
  app.synth();
}

describe('cfn-lint', () => {
  let cdkOut: string;
  let all: CfnLintResult;

  beforeAll(async () => {
    cdkOut = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-out-'));
    synthCdkApp(cdkOut);
    // One invocation for every template of this file.
    all = await runCfnLint([{ name: 'invalid', template: INVALID }, { name: 'clean', template: CLEAN }, cdkOut]);
  });
  afterAll(() => fs.rmSync(cdkOut, { recursive: true, force: true }));

  test('reports an error for an invalid property, with template, rule and resource', () => {
    expect(all.templates).toEqual(['invalid', 'clean', 'CdkProbe']);
    expect(all.errors).toEqual([
      expect.objectContaining({ template: 'invalid', level: 'Error', rule: 'E3002', logicalId: 'Bucket', path: expect.stringContaining('Resources/Bucket/Properties') }),
    ]);
  });

  test('a clean hand-written template and a synthesized CDK app (asset, intrinsics) have no errors', () => {
    expect(all.errors.filter((e) => e.template !== 'invalid')).toEqual([]);
    // CDK templates do produce warnings (e.g. W3005 DependsOn already implied); they are reported, not gating.
    for (const w of all.warnings) expect(w.level).toBe('Warning');
  });

  test('expectCfnLintClean throws on errors and passes clean templates', async () => {
    await expect(expectCfnLintClean([{ name: 'invalid', template: INVALID }, CLEAN])).rejects.toThrow(/E3002 invalid:Resources\/Bucket/);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const clean = await expectCfnLintClean([CLEAN, path.join(cdkOut, 'CdkProbe.template.json')]);
      expect(clean.errors).toEqual([]);
      expect(clean.templates).toEqual(['template-1', 'CdkProbe']);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('checkov', () => {
  let report: CheckovReport;
  const accepted = [
    {
      id: 'CKV_AWS_18',
      reason: 'Test entry: the plain bucket stands in for an access-log bucket, which cannot log to itself.',
      path: 'Insecure/*/Resource',
    },
    { id: 'CKV_AWS_117', reason: 'Test entry that matches nothing, to prove unused entries are reported.' },
  ];

  beforeAll(async () => {
    report = await checkovReport([{ name: 'insecure', template: INSECURE }, { name: 'clean', template: CLEAN }], { accepted });
  });

  test('fails known checks on insecure resources, and maps them to template and construct path', () => {
    const ids = (template: string, logicalId: string) => report.failed
      .filter((f) => f.template === template && f.logicalId === logicalId).map((f) => f.checkId).sort();
    // Bucket without public access block and versioning. (CKV_AWS_19 passes a bucket without
    // BucketEncryption because S3 now encrypts with SSE-S3 by default: checkov does not enforce
    // customer-managed keys on buckets; our encryption-coverage rule must.)
    expect(ids('insecure', 'Plain')).toEqual(['CKV_AWS_21', 'CKV_AWS_53', 'CKV_AWS_54', 'CKV_AWS_55', 'CKV_AWS_56']);
    expect(ids('insecure', 'Queue')).toEqual(['CKV_AWS_27']); // no KmsMasterKeyId
    expect(ids('insecure', 'NoRotation')).toContain('CKV_AWS_7');
    const queue = report.failed.find((f) => f.checkId === 'CKV_AWS_27')!;
    expect(queue).toMatchObject({ resourceType: 'AWS::SQS::Queue', cdkPath: 'Insecure/Queue/Resource', resource: 'AWS::SQS::Queue.Queue' });
    expect(formatCheckovFinding(queue)).toBe('CKV_AWS_27 insecure:Insecure/Queue/Resource (AWS::SQS::Queue): Ensure all data stored in the SQS queue is encrypted');
  });

  test('the clean template fails nothing', () => {
    expect(report.failed.filter((f) => f.template === 'clean').map(formatCheckovFinding)).toEqual([]);
    expect(report.summary.passed).toBeGreaterThan(0);
    expect(report.skippedInTemplate).toEqual([]);
  });

  test('accepted entries move findings out of `failed`; unused entries are reported', () => {
    expect(report.accepted.map((a) => `${a.checkId} ${a.cdkPath}`)).toEqual(['CKV_AWS_18 Insecure/Plain/Resource']);
    expect(report.failed.map((f) => f.checkId)).not.toContain('CKV_AWS_18');
    expect(report.unusedAcceptances.map((a) => a.id)).toEqual(['CKV_AWS_117']);
  });

  test('never-accepted checks and entries without a reason are rejected before checkov runs', async () => {
    expect(() => validateAcceptances([{ id: 'CKV_AWS_27', reason: 'Queues are fine without a key, trust me on this one.' }])).toThrow(/may never be accepted/);
    expect(() => validateAcceptances([{ id: 'CKV_AWS_117', reason: 'meh' }])).toThrow(/reason/);
    await expect(checkovReport(CLEAN, { accepted: [{ id: 'CKV_AWS_7', reason: 'Rotation is not needed for this key at all.' }] })).rejects.toThrow(/CKV_AWS_7/);
  });

  test('the project list is valid', () => {
    expect(() => validateAcceptances(CHECKOV_ACCEPTED)).not.toThrow();
  });
});

describe('pathMatches', () => {
  test.each([
    ['Stack/Lake/Bucket/Resource', 'Stack/Lake/Bucket/Resource', true],
    ['Stack/*/Bucket/Resource', 'Stack/Lake/Bucket/Resource', true],
    ['Stack/*/Resource', 'Stack/Lake/Bucket/Resource', false],
    ['**/Bucket/Resource', 'Stack/Lake/Bucket/Resource', true],
    ['Stack/**', 'Stack/Lake/Bucket/Resource', true],
    ['Stack/Lake.Bucket', 'Stack/LakeXBucket', false],
  ])('%s ~ %s = %s', (pattern, value, expected) => {
    expect(pathMatches(pattern, value)).toBe(expected);
  });
});
