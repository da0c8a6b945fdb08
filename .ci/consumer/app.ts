/**
 * The consumer harness (issue 12, item 6): what a user of cdk-secure-mlops sees in their own
 * security run. .ci/registry-roundtrip.sh copies this file into a fresh TypeScript app that has
 * installed the published package from the local registry, with aws-cdk-lib (the minimum or the
 * latest) and cdk-nag 3, compiles it with tsc and runs it.
 *
 * It defines every construct, with defaults and in a maximal configuration, in an
 * environment-agnostic stack and in an environment-specific one (four apps), next to resources of
 * the user's own that are deliberately non-compliant (a plain bucket, a function without a
 * dead-letter queue, a wildcard IAM policy, a retained resource without an UpdateReplacePolicy). Each app is checked as the user would check it:
 * cdk-nag's AwsSolutions, HIPAA.Security, NIST.800.53.R5 and Serverless packs added with
 * `Validations.of(app).addPlugins(...)`, and aws-cdk-lib's CloudFormation validator (which every App
 * runs), with `@aws-cdk/core:validateAgainstDefaultRules` on and the report written instead of
 * failing synth; the findings are read from the cloud assembly's validation report.
 *
 * cdk-nag drops acknowledged findings without a trace, so a second pass runs each pack over the
 * synthesized tree with every finding recorded (`applyRule` is the extension point cdk-nag gives
 * pack authors): acknowledged = recorded - reported. The validator's acknowledged findings are in
 * the report (`suppressedViolations`).
 *
 * Environment:
 *   CONSUMER_FIXTURES  directory with cleaning-rules.json, labeling.json, model.onnx, training/
 *   CONSUMER_OUT       JSON result file
 *   CONSUMER_CDK_OUT   directory for the cloud assemblies (one per configuration)
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnDeletionPolicy, CfnResource, Duration, Size, Stack, Validations } from 'aws-cdk-lib';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  AwsSolutionsChecks, HIPAASecurityChecks, IApplyRule, NagMessageLevel, NagPack, NagPackProps, NagRuleCompliance,
  NagRuleResult, NIST80053R5Checks, ServerlessChecks,
} from 'cdk-nag';
import {
  CleaningRules, GpuTrainingJob, Labeler, LabelingPipeline, MetricComparison, ModelArtifact, SecureDataLake,
  SecureUploadApi, ServerlessModelEndpoint, TrainingImage, TrainingInstanceType,
} from 'cdk-secure-mlops';
import { Construct, IConstruct } from 'constructs';

const FIXTURES = required('CONSUMER_FIXTURES');
const OUT = required('CONSUMER_OUT');
const CDK_OUT = required('CONSUMER_CDK_OUT');

const CFN_VALIDATOR = 'CloudFormation Validate';
const SCANNERS = ['AwsSolutions', 'HIPAA.Security', 'NIST.800.53.R5', 'Serverless', CFN_VALIDATOR] as const;
type Scanner = typeof SCANNERS[number];
type Owner = 'library' | 'user';

/** Top-level construct ids of the user's own resources; everything else in a stack is the library's. */
const USER_BAD = 'UserResources';
const USER_IDS = new Set([USER_BAD, 'Network', 'AlarmTopic', 'AlarmTopicKey']);
/** The user's deliberately non-compliant resources: each must be flagged by at least one scanner. */
const USER_BAD_RESOURCES: Record<string, string> = {
  'plain bucket': `${USER_BAD}/PlainBucket/`,
  'function without DLQ': `${USER_BAD}/NoDlqFunction/`,
  'wildcard IAM policy': `${USER_BAD}/WildcardPolicy/`,
  'retained resource without UpdateReplacePolicy': `${USER_BAD}/Retained`,
};

interface Finding {
  readonly scanner: Scanner;
  readonly ruleId: string;
  readonly severity: string;
  readonly constructPath: string;
  readonly owner: Owner;
  readonly acknowledged: boolean;
  readonly reason?: string;
}

interface Counts { unacknowledged: number; acknowledged: number }

interface ConfigurationResult {
  readonly configuration: string;
  readonly stack: string;
  readonly environment: string;
  readonly synth: 'ok' | 'error';
  readonly error?: string;
  readonly seconds: number;
  readonly counts?: Record<Scanner, Record<Owner, Counts>>;
  readonly userResourcesFlagged?: Record<string, number>;
  readonly libraryRules?: Record<string, number>;
  readonly findings?: Finding[];
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// The user's app
// ---------------------------------------------------------------------------------------------

const CLASSES = ['normal', 'mild', 'moderate', 'moderately-severe', 'severe', 'profound', 'complete'];

/** A small cleaning-rules document (the defaults configuration). */
const SMALL_CLEANING_RULES = {
  version: 'consumer-small@1',
  schema: {
    type: 'object',
    required: ['patientId', 'thresholds'],
    properties: {
      patientId: { type: 'string', maxLength: 64 },
      thresholds: { type: 'object' },
    },
  },
  checks: [
    { id: 'range', type: 'range', path: 'thresholds.*.*', min: -10, max: 120, step: 5 },
  ],
  pseudonymize: ['patientId'],
  subjectField: 'patientId',
};

function rulesLabeler(): Labeler {
  return Labeler.rules({
    name: 'who-grade',
    classes: CLASSES,
    groups: [
      { id: 'left', fields: ['thresholds.left.500', 'thresholds.left.1000', 'thresholds.left.2000', 'thresholds.left.4000'] },
      { id: 'right', fields: ['thresholds.right.500', 'thresholds.right.1000', 'thresholds.right.2000', 'thresholds.right.4000'] },
    ],
    thresholds: [20, 35, 50, 65, 80, 95],
    boundaryMargin: 2.5,
  });
}

/** Every construct with its defaults (and the wiring it needs). */
function defaultsConfiguration(stack: Stack): void {
  const lake = new SecureDataLake(stack, 'Lake');
  new SecureUploadApi(stack, 'Uploads', { lake });
  const pipeline = new LabelingPipeline(stack, 'Labeling', {
    lake,
    cleaningRules: CleaningRules.fromObject(SMALL_CLEANING_RULES),
    labelAttribute: 'who-grade',
    classes: CLASSES,
    labelers: [rulesLabeler()],
  });
  new GpuTrainingJob(stack, 'Training', {
    lake,
    modelName: 'who-grade',
    trainingImage: TrainingImage.fromRegistry('123456789012.dkr.ecr.eu-central-1.amazonaws.com/who-grade-training:1'),
    datasetPrefix: pipeline.zonePrefix,
    datasetTrigger: { pipelineName: pipeline.pipelineName },
  });
  new ServerlessModelEndpoint(stack, 'Predict', {
    model: ModelArtifact.fromAsset(path.join(FIXTURES, 'model.onnx'), { version: 'who-grade@1' }),
  });
}

/** Every construct with (nearly) every option set: one API and authorizer, VPC, alarms, spot training. */
function maximalConfiguration(stack: Stack): void {
  const labeling = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'labeling.json'), 'utf8'));
  const vpc = new ec2.Vpc(stack, 'Network', { maxAzs: 2, natGateways: 1 });
  const s3Endpoint = vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
  const alarmTopic = new sns.Topic(stack, 'AlarmTopic', {
    masterKey: new kms.Key(stack, 'AlarmTopicKey', { enableKeyRotation: true }),
    enforceSSL: true,
  });
  const alarmAction = new cwActions.SnsAction(alarmTopic);

  const lake = new SecureDataLake(stack, 'Lake', {
    dataEventsTrail: { cloudWatchLogsRetention: Duration.days(365) },
    objectLock: { retention: Duration.days(30) },
    rawDataExpiration: Duration.days(3650),
    quarantineExpiration: Duration.days(180),
    noncurrentVersionExpiration: Duration.days(60),
    accessLogsExpiration: Duration.days(400),
    allowedVpcEndpoints: [s3Endpoint],
  });
  const uploads = new SecureUploadApi(stack, 'Uploads', {
    lake,
    allowedOrigins: ['https://hearing-test.example.com'],
    maxObjectSize: Size.mebibytes(2),
    allowedContentTypes: ['application/json'],
    urlExpiry: Duration.minutes(2),
    keyPrefix: 'uploads/',
    throttlingRateLimit: 20,
    throttlingBurstLimit: 40,
    wafRateLimit: 500,
    logRetention: Duration.days(365),
    reservedConcurrency: 5,
    vpc,
  });
  const shared = { restApi: uploads.restApi, authorization: uploads.authorization, logsKey: uploads.logsKey };
  const pipeline = new LabelingPipeline(stack, 'Labeling', {
    lake,
    pipelineName: 'hearing',
    cleaningRules: CleaningRules.fromFile(path.join(FIXTURES, 'cleaning-rules.json')),
    labelAttribute: labeling.task.attribute,
    classes: labeling.task.classes,
    labelers: [Labeler.rulesFromObject(labeling.rules)],
    review: {
      minConfidence: labeling.task.review.minConfidence,
      qualitySampleRate: labeling.task.review.sampleRate,
      qualitySampleSalt: labeling.task.review.sampleSalt,
      timeout: Duration.days(3),
      maxAttempts: 3,
    },
    reviewApi: shared,
    datasetSplit: labeling.split,
    qualityGates: labeling.gates,
    datasetSchedule: events.Schedule.cron({ hour: '2', minute: '0' }),
    batchSize: 5,
    maxReceiveCount: 3,
    handlerTimeout: Duration.seconds(60),
    logRetention: Duration.days(365),
    alarmAction,
    reservedConcurrency: 10,
    vpc,
  });
  const endpoint = new ServerlessModelEndpoint(stack, 'Predict', {
    ...shared,
    model: ModelArtifact.fromAsset(path.join(FIXTURES, 'model.onnx'), { version: 'who-grade@1', classNames: labeling.task.classes }),
    memorySize: 1024,
    timeout: Duration.seconds(10),
    maxBatchSize: 16,
    latencyAlarmThreshold: Duration.millis(500),
    alarmAction,
    provisionedConcurrency: 1,
    reservedConcurrency: 20,
    vpc,
  });
  new GpuTrainingJob(stack, 'Training', {
    lake,
    modelName: 'who-grade',
    trainingImage: TrainingImage.fromAsset(path.join(FIXTURES, 'training')),
    instanceType: TrainingInstanceType.ML_G5_XLARGE,
    useSpotInstances: true,
    maxRuntime: Duration.hours(2),
    maxWait: Duration.hours(4),
    hyperparameters: { epochs: '20' },
    metricDefinitions: [{ name: 'validation:accuracy', regex: 'validation accuracy=([0-9.]+)' }],
    gates: [{ metricName: 'validation:accuracy', comparison: MetricComparison.GREATER_THAN_OR_EQUAL, threshold: 0.8 }],
    datasetPrefix: pipeline.zonePrefix,
    datasetTrigger: { pipelineName: pipeline.pipelineName },
    alarmAction,
    logRetention: Duration.days(365),
    vpc,
  });
  void endpoint;
}

/** Resources of the user's own that no security pack should let through. */
class UserResources extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new s3.Bucket(this, 'PlainBucket');
    const fn = new lambda.Function(this, 'NoDlqFunction', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({ ok: true });'),
    });
    const policy = new iam.Policy(this, 'WildcardPolicy', {
      statements: [new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] })],
    });
    policy.attachToRole(fn.role!);
    // DeletionPolicy Retain without UpdateReplacePolicy: the CloudFormation validator's W3011.
    const retained = new CfnResource(this, 'Retained', { type: 'AWS::CloudFormation::WaitConditionHandle' });
    retained.cfnOptions.deletionPolicy = CfnDeletionPolicy.RETAIN;
  }
}

// ---------------------------------------------------------------------------------------------
// The security run, as a user would set it up
// ---------------------------------------------------------------------------------------------

const PACKS: ReadonlyArray<{ readonly name: Scanner; readonly pack: new (scope?: IConstruct, props?: NagPackProps) => NagPack }> = [
  { name: 'AwsSolutions', pack: AwsSolutionsChecks },
  { name: 'HIPAA.Security', pack: HIPAASecurityChecks },
  { name: 'NIST.800.53.R5', pack: NIST80053R5Checks },
  { name: 'Serverless', pack: ServerlessChecks },
];

interface RawFinding { ruleId: string; severity: string; constructPath: string; reason?: string }

/** The plugin reports in the cloud assembly (the current and the legacy report format). */
function readValidationReport(directory: string): Map<string, { violations: RawFinding[]; suppressed: RawFinding[] }> {
  const byPlugin = new Map<string, { violations: RawFinding[]; suppressed: RawFinding[] }>();
  const files = ['validation-report.json', 'policy-validation-report.json'].map((f) => path.join(directory, f)).filter((f) => fs.existsSync(f));
  if (files.length === 0) {
    throw new Error(`no validation report in ${directory}: the validation plugins did not run`);
  }
  for (const file of files) {
    const report = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const plugin of report.pluginReports ?? []) {
      const name: string = plugin.pluginName ?? plugin.summary?.pluginName;
      const error = plugin.metadata?.error ?? plugin.summary?.metadata?.error;
      if (error) throw new Error(`validation plugin '${name}' failed: ${error}`);
      const entry = byPlugin.get(name) ?? { violations: [], suppressed: [] };
      const flatten = (violations: any[] | undefined): RawFinding[] => (violations ?? []).flatMap((v: any) =>
        (v.violatingConstructs ?? []).map((c: any) => ({
          ruleId: v.ruleName,
          severity: String(v.severity ?? 'error').toLowerCase(),
          constructPath: c.constructPath || `${c.templatePath ?? c.cloudFormationResource?.templatePath}#${c.resourceLogicalId ?? c.cloudFormationResource?.logicalId}`,
          reason: v.reason,
        })));
      if (byPlugin.has(name) && entry.violations.length + entry.suppressed.length > 0) continue; // same plugin in both formats
      entry.violations.push(...flatten(plugin.violations));
      entry.suppressed.push(...flatten(plugin.suppressedViolations));
      byPlugin.set(name, entry);
    }
  }
  return byPlugin;
}

/** Every finding of one pack, acknowledged or not (cdk-nag itself keeps only the unacknowledged). */
function recordAll(Pack: new (scope?: IConstruct, props?: NagPackProps) => NagPack, app: App): RawFinding[] {
  const recorded: RawFinding[] = [];
  abstract class Recording extends (Pack as unknown as abstract new () => NagPack) {
    protected applyRule(params: IApplyRule): void {
      const suffix = params.ruleSuffixOverride ?? params.rule.name;
      const ruleId = `${this.readPackName}-${suffix}`;
      const severity = params.level === NagMessageLevel.ERROR ? 'error' : 'warning';
      const constructPath = params.node.node.path;
      const original = params.rule;
      super.applyRule({
        ...params,
        ruleSuffixOverride: suffix,
        rule: (node): NagRuleResult => {
          const result = original(node);
          if (result === NagRuleCompliance.NON_COMPLIANT) {
            recorded.push({ ruleId, severity, constructPath });
          } else if (Array.isArray(result)) {
            for (const f of result) recorded.push({ ruleId: `${ruleId}[${f}]`, severity, constructPath });
          }
          return result;
        },
      });
    }
  }
  (new (Recording as unknown as new () => Recording)()).validateScope(app);
  return recorded;
}

function ownerOf(constructPath: string): Owner {
  const [, top] = constructPath.split('/');
  return top !== undefined && USER_IDS.has(top.split('#')[0]) ? 'user' : 'library';
}

function check(configuration: 'defaults' | 'maximal', environment: 'agnostic' | 'env-specific'): ConfigurationResult {
  const started = Date.now();
  const stackName = `Consumer${configuration === 'defaults' ? 'Defaults' : 'Maximal'}${environment === 'agnostic' ? 'Agnostic' : 'Env'}`;
  const outdir = path.join(CDK_OUT, `${configuration}-${environment}`);
  fs.rmSync(outdir, { recursive: true, force: true });
  const base = { configuration, environment, stack: stackName };
  try {
    const app = new App({
      outdir,
      context: {
        // The user's cdk.json: validator errors stay errors, and synth writes the report instead of failing.
        '@aws-cdk/core:validateAgainstDefaultRules': true,
        '@aws-cdk/core:failSynthOnValidationErrors': false,
      },
    });
    const stack = new Stack(app, stackName, environment === 'env-specific'
      ? { env: { account: '123456789012', region: 'eu-central-1' } }
      : {});
    if (configuration === 'defaults') defaultsConfiguration(stack); else maximalConfiguration(stack);
    new UserResources(stack, USER_BAD);
    for (const { pack } of PACKS) {
      Validations.of(app).addPlugins(new pack(app));
    }
    const assembly = app.synth();
    const report = readValidationReport(assembly.directory);

    const findings: Finding[] = [];
    const add = (scanner: Scanner, raw: RawFinding, acknowledged: boolean) =>
      findings.push({ scanner, ...raw, owner: ownerOf(raw.constructPath), acknowledged });
    for (const { name, pack } of PACKS) {
      const reported = report.get(name)?.violations ?? [];
      reported.forEach((f) => add(name, f, false));
      const reportedKeys = new Set(reported.map((f) => `${f.ruleId}\u0000${f.constructPath}`));
      for (const f of recordAll(pack, app)) {
        if (!reportedKeys.has(`${f.ruleId}\u0000${f.constructPath}`)) add(name, f, true);
      }
    }
    // aws-cdk-lib leaves a plugin without findings out of the report; the user's retained resource
    // (W3011) makes sure the validator has something to say, so its absence fails that check.
    const cfn = report.get(CFN_VALIDATOR) ?? { violations: [], suppressed: [] };
    cfn.violations.forEach((f) => add(CFN_VALIDATOR, f, false));
    cfn.suppressed.forEach((f) => add(CFN_VALIDATOR, f, true));

    const counts = Object.fromEntries(SCANNERS.map((s) => [s, Object.fromEntries((['library', 'user'] as Owner[]).map((o) => {
      const mine = findings.filter((f) => f.scanner === s && f.owner === o);
      return [o, { unacknowledged: mine.filter((f) => !f.acknowledged).length, acknowledged: mine.filter((f) => f.acknowledged).length }];
    }))])) as Record<Scanner, Record<Owner, Counts>>;
    const userResourcesFlagged = Object.fromEntries(Object.entries(USER_BAD_RESOURCES).map(([label, prefix]) =>
      [label, findings.filter((f) => !f.acknowledged && f.constructPath.startsWith(`${stackName}/${prefix}`)).length]));
    const libraryRules: Record<string, number> = {};
    for (const f of findings.filter((x) => x.owner === 'library' && !x.acknowledged)) {
      const rule = f.ruleId.replace(/\[.*\]$/, '');
      libraryRules[rule] = (libraryRules[rule] ?? 0) + 1;
    }
    return { ...base, synth: 'ok', seconds: (Date.now() - started) / 1000, counts, userResourcesFlagged, libraryRules, findings };
  } catch (e) {
    const error = (e as Error).message.split('\n')[0].replace(/^(Resolution error: )+/, 'Resolution error: ');
    return { ...base, synth: 'error', error, seconds: (Date.now() - started) / 1000 };
  }
}

function main(): void {
  const results: ConfigurationResult[] = [];
  for (const configuration of ['defaults', 'maximal'] as const) {
    for (const environment of ['agnostic', 'env-specific'] as const) {
      const result = check(configuration, environment);
      results.push(result);
      process.stderr.write(`[consumer] ${configuration}/${environment}: ${result.synth === 'ok' ? 'synthesized' : `SYNTH ERROR: ${result.error}`} (${result.seconds.toFixed(1)} s)\n`);
    }
  }
  const versions = {
    'aws-cdk-lib': require('aws-cdk-lib/package.json').version,
    'cdk-nag': require('cdk-nag/package.json').version,
    'cdk-secure-mlops': require('cdk-secure-mlops/package.json').version,
    'constructs': require('constructs/package.json').version,
    'node': process.version,
  };
  fs.writeFileSync(OUT, `${JSON.stringify({ versions, scanners: SCANNERS, userResources: USER_BAD_RESOURCES, results }, undefined, 2)}\n`);
}

main();
