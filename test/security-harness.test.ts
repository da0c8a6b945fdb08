/**
 * Tests of the security harness itself (test/support/security-harness.ts): a scanner that
 * silently stops reporting, an acknowledgment that covers more (or less) than it says, or a
 * stale list entry must all show up here.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnDeletionPolicy, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  NEVER_ACKNOWLEDGED,
  NeverAcknowledgedCategory,
  REVIEWED_ACKNOWLEDGMENTS,
  SecurityAcknowledgment,
} from './support/acknowledgments';
import {
  CFN_VALIDATOR,
  createSecurityTestApp,
  expectNoUnacknowledgedFindings,
  findNeverAcknowledgedRule,
  formatSecurityReport,
  globToRegExp,
  nagRuleIds,
  runSecurityChecks,
  ScannerName,
  SecurityReport,
  summarizeSecurityReport,
  validateAcknowledgments,
  writeSecuritySummary,
} from './support/security-harness';

const REASON = 'Test-local acknowledgment with a reason long enough.';

/** `ruleId @ constructPath` of the unacknowledged findings of one scanner. */
function unacknowledged(report: SecurityReport, scanner: ScannerName): string[] {
  return report.scanners[scanner].unacknowledged.map((f) => `${f.ruleId} @ ${f.constructPath}`);
}

function acknowledged(report: SecurityReport, scanner: ScannerName): string[] {
  return report.scanners[scanner].acknowledged.map((f) => `${f.ruleId} @ ${f.constructPath}`);
}

describe('known-bad fixture: every scanner still reports', () => {
  let report: SecurityReport;
  beforeAll(() => {
    const app = createSecurityTestApp();
    const stack = new Stack(app, 'KnownBad');
    // SSE-S3 (not KMS), no TLS-only policy, no versioning, no access logs.
    const bucket = new s3.Bucket(stack, 'Bucket');
    // A template the CloudFormation schema rejects (bucket names are lower case).
    (bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride('BucketName', 'Not_A_Valid_Name');
    new kms.Key(stack, 'Key', { enableKeyRotation: false });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['*'], resources: ['*'] }));
    new sqs.Queue(stack, 'Queue'); // no DLQ, no TLS-only policy
    new ec2.CfnSecurityGroup(stack, 'OpenSsh', {
      groupDescription: 'SSH from anywhere',
      securityGroupIngress: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIp: '0.0.0.0/0' }],
    });
    report = runSecurityChecks(app, { name: 'known-bad', acknowledgments: [], writeSummary: false });
  });

  test('AwsSolutions reports encryption-in-transit, key rotation, admin IAM and open security group', () => {
    expect(unacknowledged(report, 'AwsSolutions')).toEqual(expect.arrayContaining([
      'AwsSolutions-S10 @ KnownBad/Bucket/Resource',
      'AwsSolutions-KMS5 @ KnownBad/Key/Resource',
      'AwsSolutions-IAM5[Action::*] @ KnownBad/Role/DefaultPolicy/Resource',
      'AwsSolutions-IAM5[Resource::*] @ KnownBad/Role/DefaultPolicy/Resource',
      'AwsSolutions-SQS4 @ KnownBad/Queue/Resource',
      'AwsSolutions-EC23 @ KnownBad/OpenSsh',
    ]));
  });

  test('HIPAA.Security reports KMS encryption, TLS, admin access and SSH', () => {
    expect(unacknowledged(report, 'HIPAA.Security')).toEqual(expect.arrayContaining([
      'HIPAA.Security-S3DefaultEncryptionKMS @ KnownBad/Bucket/Resource',
      'HIPAA.Security-S3BucketSSLRequestsOnly @ KnownBad/Bucket/Resource',
      'HIPAA.Security-IAMPolicyNoStatementsWithAdminAccess @ KnownBad/Role/DefaultPolicy/Resource',
      'HIPAA.Security-EC2RestrictedSSH @ KnownBad/OpenSsh',
    ]));
  });

  test('NIST.800.53.R5 reports key rotation, KMS encryption and admin access', () => {
    expect(unacknowledged(report, 'NIST.800.53.R5')).toEqual(expect.arrayContaining([
      'NIST.800.53.R5-KMSBackingKeyRotationEnabled @ KnownBad/Key/Resource',
      'NIST.800.53.R5-S3DefaultEncryptionKMS @ KnownBad/Bucket/Resource',
      'NIST.800.53.R5-IAMPolicyNoStatementsWithAdminAccess @ KnownBad/Role/DefaultPolicy/Resource',
    ]));
  });

  test('Serverless reports the queue without a redrive policy', () => {
    expect(unacknowledged(report, 'Serverless')).toEqual(['Serverless-SQSRedrivePolicy @ KnownBad/Queue/Resource']);
  });

  test('the CloudFormation validator runs, with errors as errors and warnings as warnings', () => {
    const findings = report.scanners[CFN_VALIDATOR].unacknowledged;
    expect(findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ ruleId: 'F3031', severity: 'error', constructPath: 'KnownBad/Bucket/Resource' }),
      expect.objectContaining({
        ruleId: 'W2508', severity: 'warning', constructPath: 'KnownBad/OpenSsh', acknowledgmentId: 'CloudFormation-Validate::W2508',
      }),
    ]));
  });

  test('PCI.DSS.321 findings are reported but do not gate', () => {
    expect(unacknowledged(report, 'PCI.DSS.321')).toContain('PCI.DSS.321-KMSBackingKeyRotationEnabled @ KnownBad/Key/Resource');
    expect(report.scanners['PCI.DSS.321'].gating).toBe(false);
    expect(report.reportedOnlyFindings.length).toBe(report.scanners['PCI.DSS.321'].unacknowledged.length);
    expect(report.gatingFindings.some((f) => f.scanner === 'PCI.DSS.321')).toBe(false);
  });

  test('every scanner has findings, so a broken scanner cannot pass silently', () => {
    const silent = Object.values(report.scanners).filter((s) => s.unacknowledged.length === 0).map((s) => s.scanner);
    expect(silent).toEqual([]);
  });

  test('fails with a message that lists scanner, rule id, construct path and message of each finding', () => {
    expect(() => expectNoUnacknowledgedFindings(report)).toThrow(
      /\[AwsSolutions\] AwsSolutions-S10 \(error\) at KnownBad\/Bucket\/Resource: The S3 Bucket or bucket policy does not require requests to use SSL\./,
    );
    expect(() => expectNoUnacknowledgedFindings(report)).toThrow(
      /\[CloudFormation Validate\] W2508 \(warning\) at KnownBad\/OpenSsh: .*sensitive port 22/,
    );
    // Never-acknowledged findings say so; the others print the id to list.
    expect(() => expectNoUnacknowledgedFindings(report)).toThrow(/AwsSolutions-KMS5 .*\[key rotation: must be fixed, cannot be acknowledged\]/);
    expect(() => expectNoUnacknowledgedFindings(report)).toThrow(/Serverless-SQSRedrivePolicy .*\[ack id: Serverless-SQSRedrivePolicy\]/);
  });

  test('summarizes counts per scanner', () => {
    const summary = summarizeSecurityReport(report);
    expect(summary.passed).toBe(false);
    expect(summary.scanners.Serverless).toEqual({ gating: true, unacknowledgedErrors: 1, unacknowledgedWarnings: 0, acknowledged: 0 });
    expect(summary.scanners[CFN_VALIDATOR].unacknowledgedWarnings).toBeGreaterThanOrEqual(1);
    expect(formatSecurityReport(report)).toMatch(/^Security report 'known-bad': FAIL\n/);
    expect(formatSecurityReport(report)).toMatch(/Serverless +gating +1 +0 +0/);
  });

  test('writes the JSON summary', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'security-summary-'));
    const file = writeSecuritySummary(report, dir);
    expect(path.basename(file)).toBe('known-bad.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf-8'));
    expect(json.passed).toBe(false);
    expect(json.scanners.Serverless.unacknowledgedErrors).toBe(1);
    expect(json.findings.Serverless.unacknowledged).toEqual([expect.objectContaining({ ruleId: 'Serverless-SQSRedrivePolicy' })]);
  });
});

describe('known-good fixture', () => {
  test('a customer-managed key with rotation and a TLS-only topic encrypted with it pass', () => {
    const app = createSecurityTestApp();
    const stack = new Stack(app, 'KnownGood');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new sns.Topic(stack, 'Topic', { masterKey: key, enforceSSL: true });

    const report = runSecurityChecks(app, { name: 'known-good', writeSummary: false }); // the reviewed list

    expectNoUnacknowledgedFindings(report);
    expect(report.reportedOnlyFindings).toEqual([]);
    expect(report.templateFiles).toEqual([expect.stringMatching(/KnownGood\.template\.json$/)]);
    expect(formatSecurityReport(report)).toMatch(/^Security report 'known-good': PASS\n/);
  });
});

describe('acknowledgments', () => {
  test('Validations.acknowledge() rejects granular ids with more than one "::" (the harness records those itself)', () => {
    const stack = new Stack(new App(), 'Probe');
    expect(() => Validations.of(stack).acknowledge({ id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::b/*]', reason: REASON }))
      .toThrow(/Invalid validation rule ID/);
  });

  test('acknowledgments count although the test synthesized the App before (Template.fromStack)', () => {
    const app = createSecurityTestApp();
    const stack = new Stack(app, 'SynthFirst');
    const resource = new CfnResource(stack, 'Retained', { type: 'AWS::CloudFormation::WaitConditionHandle' });
    resource.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN;
    Template.fromStack(stack).resourceCountIs('AWS::CloudFormation::WaitConditionHandle', 1);

    const report = runSecurityChecks(app, {
      acknowledgments: [{ id: 'CloudFormation-Validate::W3011', path: 'SynthFirst/Retained', reason: REASON }],
      writeSummary: false,
    });

    expectNoUnacknowledgedFindings(report);
    expect(acknowledged(report, CFN_VALIDATOR)).toEqual(['W3011 @ SynthFirst/Retained']);
  });

  let report: SecurityReport;
  const list: SecurityAcknowledgment[] = [
    // Fire: granular ids, on an ancestor and by glob.
    { id: 'AwsSolutions-IAM5[Resource::*]', path: 'Acks/Role', reason: `xray: ${REASON}` },
    { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::other-bucket/*]', path: '**/Role/DefaultPolicy/Resource', reason: REASON },
    { id: 'HIPAA.Security-IAMNoInlinePolicy', path: 'Acks/Role/DefaultPolicy/Resource', reason: REASON },
    { id: 'CloudFormation-Validate::W3011', path: 'Acks/Retained', reason: REASON },
    // Stale: a base id does not cover granular findings.
    { id: 'AwsSolutions-IAM5', path: 'Acks/Role', reason: REASON },
    // Stale: matches a construct, but the rule does not fire there.
    { id: 'AwsSolutions-S1', path: 'Acks/Role', reason: REASON },
    // Stale: meant for this run, but the path matches nothing.
    { id: 'AwsSolutions-SQS3', path: 'Acks/RenamedQueue', reason: REASON, runs: ['ack*'] },
    // Not applicable: no `runs`, path matches nothing in this app.
    { id: 'AwsSolutions-SQS3', path: 'OtherApp/Queue', reason: REASON },
    // Out of scope: for another run only; neither applied nor stale.
    { id: 'AwsSolutions-IAM5[Action::s3:GetObject*]', path: 'Acks/Role', reason: REASON, runs: ['another-run'] },
  ];

  beforeAll(() => {
    const app = createSecurityTestApp();
    const stack = new Stack(app, 'Acks');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['xray:PutTraceSegments'], resources: ['*'] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject*'], resources: [`arn:${stack.partition}:s3:::other-bucket/*`] }));
    // An acknowledgment made in construct code instead of the list.
    Validations.of(role).acknowledge({ id: 'NIST.800.53.R5-IAMNoInlinePolicy', reason: 'acknowledged in src instead of the list' });
    // Two resources with a DeletionPolicy but no UpdateReplacePolicy (validator W3011); only the first is listed.
    for (const id of ['Retained', 'AlsoRetained']) {
      const resource = new CfnResource(stack, id, { type: 'AWS::CloudFormation::WaitConditionHandle' });
      resource.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN;
    }
    // aws-cdk-lib acknowledges W3045 (deprecated AccessControl) on the bucket itself.
    new s3.Bucket(stack, 'LogBucket', { accessControl: s3.BucketAccessControl.LOG_DELIVERY_WRITE });

    report = runSecurityChecks(app, { name: 'acks', acknowledgments: list, writeSummary: false });
  });

  test('a granular acknowledgment silences exactly its finding', () => {
    expect(acknowledged(report, 'AwsSolutions')).toEqual([
      'AwsSolutions-IAM5[Resource::*] @ Acks/Role/DefaultPolicy/Resource',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::other-bucket/*] @ Acks/Role/DefaultPolicy/Resource',
    ]);
    // The third IAM5 finding on the same resource is neither listed nor covered by the base id.
    expect(unacknowledged(report, 'AwsSolutions')).toContain('AwsSolutions-IAM5[Action::s3:GetObject*] @ Acks/Role/DefaultPolicy/Resource');
    expect(unacknowledged(report, 'AwsSolutions').filter((f) => f.includes('Acks/Role/'))).toEqual([
      'AwsSolutions-IAM5[Action::s3:GetObject*] @ Acks/Role/DefaultPolicy/Resource',
    ]);
    // Same rule name, other pack: only the listed pack's finding is silenced.
    expect(acknowledged(report, 'HIPAA.Security')).toEqual(['HIPAA.Security-IAMNoInlinePolicy @ Acks/Role/DefaultPolicy/Resource']);
    expect(unacknowledged(report, 'PCI.DSS.321')).toContain('PCI.DSS.321-IAMNoInlinePolicy @ Acks/Role/DefaultPolicy/Resource');
  });

  test('acknowledged findings say where and why', () => {
    const [first] = report.scanners.AwsSolutions.acknowledged;
    expect(first.acknowledgedBy).toEqual({ at: 'Acks/Role', reason: `xray: ${REASON}`, source: 'reviewed-list' });
  });

  test('a validator acknowledgment covers its construct only, although aws-cdk-lib suppresses the rule app-wide', () => {
    expect(acknowledged(report, CFN_VALIDATOR)).toEqual(expect.arrayContaining(['W3011 @ Acks/Retained']));
    expect(report.scanners[CFN_VALIDATOR].unacknowledged).toEqual([
      expect.objectContaining({ ruleId: 'W3011', constructPath: 'Acks/AlsoRetained', message: expect.stringMatching(/acknowledged elsewhere in the app/) }),
    ]);
  });

  test("aws-cdk-lib's own validator acknowledgments are reported, not failed", () => {
    expect(report.frameworkAcknowledgments).toEqual([expect.objectContaining({ id: 'CloudFormation-Validate::W3045', constructPath: 'Acks/LogBucket' })]);
    expect(report.scanners[CFN_VALIDATOR].acknowledged).toEqual(expect.arrayContaining([
      expect.objectContaining({ ruleId: 'W3045', acknowledgedBy: expect.objectContaining({ source: 'aws-cdk-lib', at: 'Acks/LogBucket' }) }),
    ]));
  });

  test('stale acknowledgments are reported', () => {
    expect(report.staleAcknowledgments.map((s) => [s.acknowledgment.id, s.acknowledgment.path, s.problem])).toEqual([
      ['AwsSolutions-IAM5', 'Acks/Role', "matched Acks/Role but no 'AwsSolutions-IAM5' finding fired there"],
      ['AwsSolutions-S1', 'Acks/Role', "matched Acks/Role but no 'AwsSolutions-S1' finding fired there"],
      ['AwsSolutions-SQS3', 'Acks/RenamedQueue', "is meant for run 'acks' but its path matches no construct"],
    ]);
    expect(report.notApplicableAcknowledgments.map((a) => a.path)).toEqual(['OtherApp/Queue']);
  });

  test('an acknowledgment made outside the list is reported', () => {
    expect(report.unlistedAcknowledgments).toEqual([
      { id: 'NIST.800.53.R5-IAMNoInlinePolicy', reason: 'acknowledged in src instead of the list', constructPath: 'Acks/Role' },
    ]);
    expect(report.scanners['NIST.800.53.R5'].acknowledged).toEqual([
      expect.objectContaining({ ruleId: 'NIST.800.53.R5-IAMNoInlinePolicy', acknowledgedBy: expect.objectContaining({ source: 'unlisted' }) }),
    ]);
  });

  test('the failure message lists stale and unlisted acknowledgments', () => {
    expect(() => expectNoUnacknowledgedFindings(report)).toThrow(
      /3 stale acknowledgment\(s\)[^]*\{ id: 'AwsSolutions-IAM5', path: 'Acks\/Role' \} matched Acks\/Role but no 'AwsSolutions-IAM5' finding fired there/,
    );
    expect(() => expectNoUnacknowledgedFindings(report)).toThrow(
      /1 acknowledgment\(s\) made outside the reviewed list[^]*'NIST.800.53.R5-IAMNoInlinePolicy' at Acks\/Role/,
    );
  });
});

describe('never-acknowledged rules', () => {
  test.each([
    ['AwsSolutions-S10', NeverAcknowledgedCategory.TLS_ONLY],
    ['HIPAA.Security-S3DefaultEncryptionKMS', NeverAcknowledgedCategory.ENCRYPTION_AT_REST],
    ['NIST.800.53.R5-S3BucketPublicReadProhibited', NeverAcknowledgedCategory.PUBLIC_ACCESS],
    ['AwsSolutions-KMS5', NeverAcknowledgedCategory.KEY_ROTATION],
    ['AwsSolutions-APIG4', NeverAcknowledgedCategory.API_AUTHORIZATION],
    ['AwsSolutions-COG4', NeverAcknowledgedCategory.API_AUTHORIZATION],
    ['AwsSolutions-APIG2', NeverAcknowledgedCategory.REQUEST_VALIDATION],
    ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AdministratorAccess]', NeverAcknowledgedCategory.ADMIN_OR_FULL_ACCESS_IAM],
    ['AwsSolutions-IAM5[Action::*]', NeverAcknowledgedCategory.ADMIN_OR_FULL_ACCESS_IAM],
    ['AwsSolutions-IAM5[Action::s3:*]', NeverAcknowledgedCategory.ADMIN_OR_FULL_ACCESS_IAM],
    ['HIPAA.Security-IAMPolicyNoStatementsWithFullAccess', NeverAcknowledgedCategory.ADMIN_OR_FULL_ACCESS_IAM],
    ['CloudFormation-Validate::W2508', NeverAcknowledgedCategory.PUBLIC_ACCESS],
  ])('acknowledging %s throws (%s)', (id, category) => {
    expect(findNeverAcknowledgedRule(id)?.category).toBe(category);
    expect(() => validateAcknowledgments([{ id, path: 'Stack/Thing', reason: REASON }])).toThrow(
      new RegExp(`'${id.replace(/[[\]*.]/g, '\\$&')}' is a ${category} rule, .* never acknowledged`),
    );
  });

  test.each([
    'AwsSolutions-IAM5[Action::s3:GetObject*]',
    'AwsSolutions-IAM5[Resource::*]',
    'Serverless-SQSRedrivePolicy',
    'HIPAA.Security-APIGWCacheEnabledAndEncrypted', // "no API caching of personal data" is a legitimate residual
    'CloudFormation-Validate::W3045',
  ])('%s may be acknowledged', (id) => {
    expect(findNeverAcknowledgedRule(id)).toBeUndefined();
    expect(() => validateAcknowledgments([{ id, path: 'Stack/Thing', reason: REASON }])).not.toThrow();
  });

  test('the one sanctioned exception: SSE-S3 on an access-log bucket, and nowhere else', () => {
    for (const id of ['HIPAA.Security-S3DefaultEncryptionKMS', 'NIST.800.53.R5-S3DefaultEncryptionKMS']) {
      expect(() => validateAcknowledgments([{ id, path: 'Stack/Lake/AccessLogs/Resource', reason: REASON }])).not.toThrow();
      expect(() => validateAcknowledgments([{ id, path: '**/Lake/AccessLogs/Resource', reason: REASON }])).not.toThrow();
      expect(() => validateAcknowledgments([{ id, path: 'Stack/Lake/Raw/Resource', reason: REASON }])).toThrow(/never acknowledged/);
      expect(() => validateAcknowledgments([{ id, path: /AccessLogs/, reason: REASON }])).toThrow(/never acknowledged/);
    }
  });

  test('runSecurityChecks throws on a never-acknowledged entry before synthesizing', () => {
    const app = createSecurityTestApp();
    new sqs.Queue(new Stack(app, 'Denied'), 'Queue');
    expect(() => runSecurityChecks(app, {
      acknowledgments: [{ id: 'AwsSolutions-SQS4', path: 'Denied/Queue', reason: REASON }],
      writeSummary: false,
    })).toThrow(/'AwsSolutions-SQS4' is a TLS-only/);
  });

  test('every cdk-nag id in the denylist is a rule of the installed packs', () => {
    const known = new Set(Object.values(nagRuleIds()).flat());
    expect(known.size).toBeGreaterThan(300);
    const unknown = NEVER_ACKNOWLEDGED
      .map((r) => r.rule)
      .filter((rule): rule is string => typeof rule === 'string' && !rule.startsWith('CloudFormation-Validate::'))
      .filter((rule) => !known.has(rule));
    expect(unknown).toEqual([]);
  });
});

describe('acknowledgment list validation', () => {
  test('the reviewed list is valid', () => {
    expect(() => validateAcknowledgments(REVIEWED_ACKNOWLEDGMENTS)).not.toThrow();
  });

  test.each([
    ['the pack name is misspelled', { id: 'AWSSolutions-IAM5[Resource::*]', path: 'S/R', reason: REASON }, /not a cdk-nag id/],
    ['the validator prefix has a space', { id: 'CloudFormation Validate::W2001', path: 'S/R', reason: REASON }, /not a cdk-nag id/],
    ['the path is blank', { id: 'AwsSolutions-IAM5[Resource::*]', path: ' ', reason: REASON }, /path is empty/],
    ['the reason is too short', { id: 'AwsSolutions-IAM5[Resource::*]', path: 'S/R', reason: 'needed' }, /reason 'needed' is too short/],
  ])('fails if %s', (_, ack, message) => {
    expect(() => validateAcknowledgments([ack])).toThrow(message);
  });

  test('fails if an entry is listed twice', () => {
    const ack = { id: 'AwsSolutions-IAM5[Resource::*]', path: 'S/R', reason: REASON };
    expect(() => validateAcknowledgments([ack, { ...ack }])).toThrow(/listed twice/);
  });

  test('fails if the App lacks the validator context', () => {
    const app = new App();
    new Stack(app, 'Plain');
    expect(() => runSecurityChecks(app, { writeSummary: false })).toThrow(
      /needs App context '@aws-cdk\/core:validateAgainstDefaultRules' = true, got undefined.*createSecurityTestApp/,
    );
  });
});

describe('construct path globs', () => {
  test.each([
    ['Stack/Role', 'Stack/Role', true],
    ['Stack/Role', 'Stack/Role/DefaultPolicy', false],
    ['*/Role', 'Minimal/Role', true],
    ['*/Role', 'A/B/Role', false],
    ['**/Role', 'Role', true],
    ['**/Role', 'A/B/Role', true],
    ['Stack/**', 'Stack/Role/DefaultPolicy/Resource', true],
    ['Stack/Lake*/Bucket', 'Stack/LakeMax/Bucket', true],
    ['Stack/Role[1]', 'Stack/Role[1]', true],
    ['Stack/Role.x', 'Stack/RoleXx', false],
  ])('%s matches %s: %s', (glob, value, expected) => {
    expect(globToRegExp(glob).test(value)).toBe(expected);
  });
});
