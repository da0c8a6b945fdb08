import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Fixture, PartialProps, trainingStack } from './training-fixture';
import { GpuTrainingJob, TrainingInstanceType } from '../../src/gpu-training-job';
import { LabelingPipeline } from '../../src/labeling-pipeline/labeling-pipeline';
import { DataZone } from '../../src/secure-data-lake/data-zone';
import { SecureDataLake } from '../../src/secure-data-lake/secure-data-lake';
import { ACCOUNT, createPolicySimulator, PolicySimulator, REGION, RequestCheck } from '../support/resolve-template';

/**
 * Least privilege of the GpuTrainingJob's two roles, proven with an IAM policy simulator over the
 * synthesized identity, bucket and key policies (security.md item 5):
 * - the SageMaker execution role reads the dataset versions, writes output (and checkpoints when
 *   enabled) under the model's prefix, pulls its image and writes the training logs and metrics;
 * - the state machine role runs training jobs named after the model, passes the execution role to
 *   SageMaker only, registers model packages in the model's group, writes the model record and
 *   puts the events.
 * Each is denied its neighbours: other zones and prefixes, deletes, other keys, repositories, jobs,
 * model groups, buses, and PassRole to another service.
 */

type Built = Fixture & { sim: PolicySimulator };

type Props = PartialProps | ((stack: Stack, lake: SecureDataLake) => PartialProps);

function build(props: Props = {}, extend?: (job: GpuTrainingJob, stack: Stack, lake: SecureDataLake) => void): Built {
  const f = trainingStack(props, undefined, extend);
  return { ...f, sim: createPolicySimulator(f.template.toJSON()) };
}

function subjects(b: Built) {
  const { stack, lake, job, sim } = b;
  const id = (c: any) => stack.getLogicalId(c.node.defaultChild);
  const lakeKey = sim.arnOf(id(lake.encryptionKey));
  const sagemaker = (resource: string) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:${resource}`;
  return {
    trainingRole: id(job.role as iam.Role),
    machineRole: id((job.stateMachine as any).role as iam.Role),
    trainingRoleArn: sim.arnOf(id(job.role as iam.Role)),
    machineRoleArn: sim.arnOf(id((job.stateMachine as any).role as iam.Role)),
    machineArn: sim.arnOf(id(job.stateMachine)),
    publishRole: id(job.publishModelFunction.role as iam.Role),
    publishFunctionArn: sim.arnOf(id(job.publishModelFunction)),
    bucket: (zone: DataZone) => sim.arnOf(id(lake.bucket(zone))),
    obj: (zone: DataZone, key: string) => `${sim.arnOf(id(lake.bucket(zone)))}/${key}`,
    lakeKey,
    hmacKey: sim.arnOf(id(lake.pseudonymizationKey!)),
    jobKey: sim.arnOf(id(job.encryptionKey)),
    volumeKey: job.volumeEncryptionKey ? sim.arnOf(id(job.volumeEncryptionKey)) : undefined,
    foreignKey: `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-foreign`,
    job: (name: string) => sagemaker(`training-job/${name}`),
    modelPackage: (group: string, version: number) => sagemaker(`model-package/${group}/${version}`),
    repository: (name: string) => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${name}`,
    trainingLogs: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/sagemaker/TrainingJobs`,
    bus: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`,
    otherBus: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/another-bus`,
    sse: { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': lakeKey },
  };
}

type S = ReturnType<typeof subjects>;
const { CLEAN, CURATED, MODELS, RAW } = DataZone;
const viaS3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };
const c = (action: string, resource: string, context?: RequestCheck['context']): RequestCheck => ({ action, resource, context });

const JOB = 'hearing-who-grade-0123456789abcdef0123456789abcdef';
const MANIFEST = 'hearing/datasets/2026-03-01T00-00-00Z/train.manifest';

function trainingRoleChecks(s: S): { allowed: RequestCheck[]; denied: RequestCheck[] } {
  const output = s.obj(MODELS, `hearing-who-grade/training-jobs/${JOB}/output/model.tar.gz`);
  const stream = `${s.trainingLogs}:log-stream:${JOB}/algo-1-1700000000`;
  return {
    allowed: [
      c('s3:GetObject', s.obj(CURATED, MANIFEST)), // File mode downloads the channel's S3Prefix
      c('s3:ListBucket', s.bucket(CURATED), { 's3:prefix': MANIFEST }),
      c('kms:Decrypt', s.lakeKey, viaS3),
      c('s3:PutObject', output, s.sse), // OutputDataConfig.KmsKeyId is the lake key
      c('kms:GenerateDataKey', s.lakeKey, viaS3),
      c('logs:CreateLogGroup', s.trainingLogs), c('logs:CreateLogStream', stream), c('logs:PutLogEvents', stream), c('logs:DescribeLogStreams', s.trainingLogs),
      c('cloudwatch:PutMetricData', '*', { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' }),
      c('ecr:BatchGetImage', s.repository('hearing-training')), c('ecr:GetDownloadUrlForLayer', s.repository('hearing-training')),
      c('ecr:BatchCheckLayerAvailability', s.repository('hearing-training')), c('ecr:GetAuthorizationToken', '*'),
    ],
    denied: [
      // other prefixes and zones
      c('s3:GetObject', s.obj(CURATED, 'hearing/labels/sha256-0f/rules.json')), c('s3:GetObject', s.obj(CURATED, 'other/datasets/v1/train.manifest')),
      c('s3:GetObject', s.obj(CLEAN, 'hearing/records/sha256-0f.json')), c('s3:GetObject', s.obj(RAW, 'uploads/u.json')),
      c('s3:ListBucket', s.bucket(CURATED), { 's3:prefix': 'hearing/labels/' }), c('s3:ListBucket', s.bucket(CURATED), { 's3:prefix': '' }),
      c('s3:ListBucket', s.bucket(CLEAN), { 's3:prefix': 'hearing/datasets/' }),
      c('s3:PutObject', s.obj(CURATED, MANIFEST), s.sse), // never writes its input
      c('s3:GetObject', s.obj(MODELS, `hearing-who-grade/training-jobs/${JOB}/output/model.tar.gz`)), // never reads its output back
      c('s3:PutObject', s.obj(MODELS, 'other-model/training-jobs/x/output/model.tar.gz'), s.sse),
      c('s3:PutObject', s.obj(MODELS, 'hearing-who-grade/records/x.json'), s.sse), // the state machine's
      c('s3:PutObject', s.obj(MODELS, `hearing-who-grade/checkpoints/${JOB}/c.pt`), s.sse), // no checkpoints without spot
      c('s3:GetObject', s.obj(MODELS, `hearing-who-grade/checkpoints/${JOB}/c.pt`)),
      c('s3:PutObject', s.obj(MODELS, `hearing-who-grade/training-jobs/${JOB}/output/model.tar.gz`), { ...s.sse, 's3:x-amz-server-side-encryption-aws-kms-key-id': s.foreignKey }),
      // deletes
      c('s3:DeleteObject', s.obj(MODELS, `hearing-who-grade/training-jobs/${JOB}/output/model.tar.gz`)), c('s3:DeleteObject', s.obj(CURATED, MANIFEST)),
      c('s3:DeleteObjectVersion', s.obj(CURATED, MANIFEST)),
      // other images, namespaces, log groups
      c('ecr:BatchGetImage', s.repository('another-repository')), c('ecr:PutImage', s.repository('hearing-training')),
      c('cloudwatch:PutMetricData', '*', { 'cloudwatch:namespace': 'AWS/Lambda' }),
      c('logs:PutLogEvents', `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/x:log-stream:y`),
      // keys
      c('kms:Decrypt', s.lakeKey), c('kms:GenerateMac', s.hmacKey), c('kms:CreateGrant', s.lakeKey), c('kms:Decrypt', s.jobKey),
      c('kms:Decrypt', s.foreignKey, viaS3),
      // it runs in a job; it starts none and passes no role
      c('sagemaker:CreateTrainingJob', s.job(JOB)), c('sagemaker:CreateModelPackage', s.modelPackage('hearing-who-grade', 1)),
      c('iam:PassRole', s.trainingRoleArn, { 'iam:PassedToService': 'sagemaker.amazonaws.com' }),
      c('events:PutEvents', s.bus),
    ],
  };
}

function machineRoleChecks(s: S): { allowed: RequestCheck[]; denied: RequestCheck[] } {
  const record = s.obj(MODELS, `hearing-who-grade/records/${JOB}.json`);
  const sfnRule = `arn:aws:events:${REGION}:${ACCOUNT}:rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule`;
  return {
    allowed: [
      c('sagemaker:CreateTrainingJob', s.job(JOB)), c('sagemaker:DescribeTrainingJob', s.job(JOB)), c('sagemaker:StopTrainingJob', s.job(JOB)),
      c('iam:PassRole', s.trainingRoleArn, { 'iam:PassedToService': 'sagemaker.amazonaws.com' }),
      c('events:PutRule', sfnRule), c('events:PutTargets', sfnRule), c('events:DescribeRule', sfnRule), // the .sync integration
      c('sagemaker:CreateModelPackage', s.modelPackage('hearing-who-grade', 7)),
      c('s3:PutObject', record), // the SDK integration sends no SSE fields: the bucket default (lake key) applies
      c('kms:GenerateDataKey', s.lakeKey, viaS3),
      c('events:PutEvents', s.bus),
      // ReadDatasetCard: the card of any version under the dataset prefix (SSE-KMS, decrypted through S3)
      c('s3:GetObject', s.obj(CURATED, 'hearing/datasets/v7/dataset-card.json')), c('kms:Decrypt', s.lakeKey, viaS3),
    ],
    denied: [
      // nothing of a dataset version but its card, and no card under another prefix
      c('s3:GetObject', s.obj(CURATED, 'hearing/datasets/v7/quality-report.json')), c('s3:GetObjectVersion', s.obj(CURATED, 'hearing/datasets/v7/dataset-card.json')),
      c('s3:GetObject', s.obj(CURATED, 'other/datasets/v7/dataset-card.json')), c('s3:PutObject', s.obj(CURATED, 'hearing/datasets/v7/dataset-card.json')),
      c('sagemaker:CreateTrainingJob', s.job('other-model-0123')), c('sagemaker:StopTrainingJob', s.job('other-model-0123')),
      c('iam:PassRole', s.trainingRoleArn, { 'iam:PassedToService': 'lambda.amazonaws.com' }),
      c('iam:PassRole', s.trainingRoleArn, { 'iam:PassedToService': 'ec2.amazonaws.com' }),
      c('iam:PassRole', s.trainingRoleArn),
      c('iam:PassRole', s.machineRoleArn, { 'iam:PassedToService': 'sagemaker.amazonaws.com' }),
      c('sagemaker:CreateModelPackage', s.modelPackage('other-model', 1)),
      c('sagemaker:UpdateModelPackage', s.modelPackage('hearing-who-grade', 7)), // may not approve its own model
      c('sagemaker:DeleteModelPackage', s.modelPackage('hearing-who-grade', 7)),
      c('sagemaker:CreateEndpoint', `arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint/hearing-who-grade`),
      c('s3:PutObject', s.obj(MODELS, `hearing-who-grade/training-jobs/${JOB}/output/model.tar.gz`)),
      c('s3:PutObject', s.obj(MODELS, 'other-model/records/x.json')), c('s3:PutObject', s.obj(CURATED, MANIFEST)),
      c('s3:GetObject', record), c('s3:GetObject', s.obj(CURATED, MANIFEST)),
      c('s3:DeleteObject', record), c('s3:DeleteObjectVersion', record),
      c('s3:PutObject', record, { ...s.sse, 's3:x-amz-server-side-encryption-aws-kms-key-id': s.foreignKey }),
      c('events:PutEvents', s.otherBus), c('events:PutRule', `arn:aws:events:${REGION}:${ACCOUNT}:rule/another-rule`),
      c('kms:Decrypt', s.lakeKey), c('kms:GenerateMac', s.hmacKey), c('kms:Decrypt', s.foreignKey, viaS3),
    ],
  };
}

const MODEL_SHA = 'ab'.repeat(32);
const RUN_ID = '0195fa3c-1e00-7abc-8def-0123456789ab';

function publishRoleChecks(s: S): { allowed: RequestCheck[]; denied: RequestCheck[] } {
  const archive = s.obj(MODELS, `hearing-who-grade/training-jobs/${JOB}/output/model.tar.gz`);
  const model = s.obj(MODELS, `hearing-who-grade/models/${JOB}/model.onnx`);
  const baseline = s.obj(MODELS, `monitoring/baselines/${MODEL_SHA}.json`);
  const lineageEvent = s.obj(CURATED, `lineage/events/date=2026-03-01/${RUN_ID}-COMPLETE.json`);
  const lineageIndex = s.obj(CURATED, `lineage/index/model-sha256=${MODEL_SHA}/${RUN_ID}.json`);
  return {
    allowed: [
      c('s3:GetObject', archive), c('kms:Decrypt', s.lakeKey, viaS3),
      c('s3:PutObject', model, s.sse), c('s3:GetObject', model), // written once, read back by a retry
      c('s3:PutObject', baseline, s.sse), c('s3:GetObject', baseline),
      c('kms:GenerateDataKey', s.lakeKey, viaS3),
      // the training run's lineage event and its index objects (written once, never read back)
      c('s3:PutObject', lineageEvent, s.sse), c('s3:PutObject', lineageIndex, s.sse),
    ],
    denied: [
      // its input is read-only, other models' prefixes and every other folder are out of reach
      c('s3:PutObject', archive, s.sse), c('s3:GetObject', s.obj(MODELS, `other-model/training-jobs/${JOB}/output/model.tar.gz`)),
      c('s3:PutObject', s.obj(MODELS, `other-model/models/${JOB}/model.onnx`), s.sse),
      c('s3:PutObject', s.obj(MODELS, `hearing-who-grade/records/${JOB}.json`), s.sse),
      c('s3:GetObject', s.obj(MODELS, `hearing-who-grade/checkpoints/${JOB}/c.pt`)),
      c('s3:PutObject', s.obj(MODELS, 'monitoring/captures/endpoint=e/model=v1/date=2026-03-01/hour=12/x.jsonl'), s.sse),
      c('s3:GetObject', s.obj(MODELS, 'monitoring/captures/endpoint=e/model=v1/date=2026-03-01/hour=12/x.jsonl')),
      c('s3:PutObject', s.obj(MODELS, 'monitoring/reports/endpoint=e/20260301T1200Z/drift-report.json'), s.sse),
      c('s3:GetObject', s.obj(CURATED, MANIFEST)), c('s3:PutObject', s.obj(CURATED, 'hearing/datasets/v1/x'), s.sse),
      // lineage: write only, only under lineage/ of the curated zone
      c('s3:GetObject', lineageEvent), c('s3:GetObjectVersion', lineageEvent), c('s3:DeleteObject', lineageEvent), c('s3:DeleteObjectVersion', lineageIndex),
      c('s3:ListBucket', s.bucket(CURATED), { 's3:prefix': 'lineage/' }),
      c('s3:PutObject', s.obj(CURATED, 'hearing/labels/sha256-0f/rules.json'), s.sse), c('s3:PutObject', s.obj(CURATED, 'lineagex/events/e.json'), s.sse),
      c('s3:PutObject', s.obj(MODELS, `lineage/events/date=2026-03-01/${RUN_ID}-COMPLETE.json`), s.sse),
      c('s3:PutObject', s.obj(CLEAN, 'lineage/events/e.json'), s.sse),
      c('s3:PutObject', lineageEvent, { ...s.sse, 's3:x-amz-server-side-encryption-aws-kms-key-id': s.foreignKey }),
      // no delete, no listing, no other key, no foreign key on writes
      c('s3:DeleteObject', model), c('s3:DeleteObjectVersion', baseline), c('s3:DeleteObject', archive),
      c('s3:ListBucket', s.bucket(MODELS), { 's3:prefix': 'hearing-who-grade/' }),
      c('s3:PutObject', model, { ...s.sse, 's3:x-amz-server-side-encryption-aws-kms-key-id': s.foreignKey }),
      c('kms:Decrypt', s.lakeKey), c('kms:GenerateMac', s.hmacKey), c('kms:Decrypt', s.foreignKey, viaS3),
      // nothing else of the job
      c('sagemaker:CreateModelPackage', s.modelPackage('hearing-who-grade', 1)), c('events:PutEvents', s.bus),
      c('states:StartExecution', s.machineArn), c('lambda:InvokeFunction', s.publishFunctionArn),
    ],
  };
}

const show = (outcomes: { action: string; resource: string; decision?: string }[]) => outcomes.map((o) => `${o.action} ${o.resource} → ${o.decision}`);

const INVENTORY = {
  training: [
    'cloudwatch:PutMetricData', 'ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'ecr:GetDownloadUrlForLayer',
    'kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents',
    's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 's3:ListMultipartUploadParts', 's3:PutObject',
  ],
  machine: [
    'events:DescribeRule', 'events:PutEvents', 'events:PutRule', 'events:PutTargets', 'iam:PassRole',
    'kms:Decrypt', 'kms:GenerateDataKey',
    'logs:CreateLogDelivery', 'logs:DeleteLogDelivery', 'logs:DescribeLogGroups', 'logs:DescribeResourcePolicies', 'logs:GetLogDelivery',
    'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:UpdateLogDelivery',
    's3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject',
    'lambda:InvokeFunction',
    'sagemaker:CreateModelPackage', 'sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob',
    'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
  ].sort(),
  publish: [
    'kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents',
    's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:ListMultipartUploadParts', 's3:PutObject',
    'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
  ],
};

const built = build();
const s = subjects(built);

describe('SageMaker execution role', () => {
  const checks = trainingRoleChecks(s);
  test('is allowed what a training job does: read the dataset, write its output, pull its image, log', async () => {
    expect(show(await built.sim.mismatches(s.trainingRole, 'Allowed', checks.allowed))).toEqual([]);
  });
  test('is denied the neighbours: other prefixes and zones, deletes, other keys and repositories, starting jobs', async () => {
    expect(show(await built.sim.mismatches(s.trainingRole, 'Denied', checks.denied))).toEqual([]);
  });
  test('its policies allow no action beyond the reviewed inventory', () => {
    expect(built.sim.allowedActionsOf(s.trainingRole)).toEqual(INVENTORY.training);
  });
});

describe('state machine role', () => {
  const checks = machineRoleChecks(s);
  test('is allowed to run the model\'s jobs, pass the execution role to SageMaker, register, record and announce', async () => {
    expect(show(await built.sim.mismatches(s.machineRole, 'Allowed', checks.allowed))).toEqual([]);
  });
  test('is denied the neighbours: other jobs, model groups, services to pass to, prefixes, buses, approving its model', async () => {
    expect(show(await built.sim.mismatches(s.machineRole, 'Denied', checks.denied))).toEqual([]);
  });
  test('its policies allow no action beyond the reviewed inventory', () => {
    expect(built.sim.allowedActionsOf(s.machineRole)).toEqual(INVENTORY.machine);
  });
  test('it may use its key for its own state machine\'s encryption context', () => {
    // CDK's CustomerManagedEncryptionConfiguration conditions the role's kms:Decrypt/GenerateDataKey on
    // kms:EncryptionContext:aws:states:stateMachineArn = `…:stateMachine:<name>`; without a name the
    // value would end in `stateMachine:` and never match (so the construct names its state machine).
    // (The simulator ignores kms:EncryptionContext:* keys, so this is checked on the resolved statement.)
    const name: string = (built.job.stateMachine.node.defaultChild as any).stateMachineName;
    const contexts = built.sim.identityPoliciesOf(s.machineRole)
      .flatMap((p) => p.policy.Statement)
      .filter((st: any) => st.Resource === s.jobKey && [st.Action].flat().includes('kms:Decrypt'))
      .map((st: any) => st.Condition?.StringEquals?.['kms:EncryptionContext:aws:states:stateMachineArn']);
    expect(contexts).toEqual([`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`]);
  });
});

describe('PublishModel function role', () => {
  const checks = publishRoleChecks(s);
  test('is allowed to read the job\'s archive, write (and read back) the published model and its baseline, and write the lineage event', async () => {
    expect(show(await built.sim.mismatches(s.publishRole, 'Allowed', checks.allowed))).toEqual([]);
  });
  test('is denied the neighbours: writing its input, other models, other monitoring folders, reading lineage, deletes, listing, other keys', async () => {
    expect(show(await built.sim.mismatches(s.publishRole, 'Denied', checks.denied))).toEqual([]);
  });
  test('its policies allow no action beyond the reviewed inventory', () => {
    expect(built.sim.allowedActionsOf(s.publishRole)).toEqual(INVENTORY.publish);
  });
  test('the state machine may invoke it, and no other function', async () => {
    expect(show(await built.sim.mismatches(s.machineRole, 'Allowed', [c('lambda:InvokeFunction', s.publishFunctionArn)]))).toEqual([]);
    expect(show(await built.sim.mismatches(s.machineRole, 'Denied', [
      c('lambda:InvokeFunction', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:another`), c('lambda:UpdateFunctionCode', s.publishFunctionArn),
    ]))).toEqual([]);
  });
});

describe('retraining on drift', () => {
  const datasetMachine = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:hearing-dataset`;
  const retrain = build((stack) => ({
    datasetTrigger: {},
    retrainOnDrift: {
      pipeline: {
        pipelineName: 'hearing', zonePrefix: 'hearing/', datasetStateMachine: sfn.StateMachine.fromStateMachineArn(stack, 'DatasetMachine', datasetMachine),
      } as unknown as LabelingPipeline,
    },
  }));
  const r = subjects(retrain);
  const role = retrain.stack.getLogicalId(retrain.job.node.findChild('RetrainOnDriftRole').node.defaultChild as iam.CfnRole);

  test('the rule\'s role may start the pipeline\'s dataset state machine and nothing else', async () => {
    expect(show(await retrain.sim.mismatches(role, 'Allowed', [c('states:StartExecution', datasetMachine)]))).toEqual([]);
    expect(show(await retrain.sim.mismatches(role, 'Denied', [
      c('states:StartExecution', r.machineArn), c('states:StartExecution', `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:hearing-backfill`),
      c('states:StopExecution', `arn:aws:states:${REGION}:${ACCOUNT}:execution:hearing-dataset:x`), c('s3:GetObject', r.obj(MODELS, 'hearing-who-grade/records/x.json')),
    ]))).toEqual([]);
    expect(retrain.sim.allowedActionsOf(role)).toEqual(['states:StartExecution']);
  });
});

describe('spot training with checkpoints and a volume key', () => {
  const spot = build({ instanceType: TrainingInstanceType.ML_P3_2XLARGE, useSpotInstances: true });
  const v = subjects(spot);
  const checkpoint = v.obj(MODELS, `hearing-who-grade/checkpoints/${JOB}/c.pt`);

  test('the execution role syncs its checkpoints and may grant SageMaker the volume key, and nothing more', async () => {
    expect(v.volumeKey).toBeDefined();
    const allowed = [
      c('s3:PutObject', checkpoint, v.sse), c('s3:GetObject', checkpoint),
      c('s3:ListBucket', v.bucket(MODELS), { 's3:prefix': `hearing-who-grade/checkpoints/${JOB}/` }),
      c('kms:CreateGrant', v.volumeKey!), c('kms:DescribeKey', v.volumeKey!),
    ];
    const denied = [
      c('s3:GetObject', v.obj(MODELS, `other-model/checkpoints/${JOB}/c.pt`)), c('s3:DeleteObject', checkpoint),
      c('s3:ListBucket', v.bucket(MODELS), { 's3:prefix': 'hearing-who-grade/records/' }),
      c('s3:ListBucket', v.bucket(MODELS), { 's3:prefix': 'other-model/checkpoints/' }),
      c('kms:CreateGrant', v.lakeKey), c('kms:CreateGrant', v.jobKey), c('kms:Decrypt', v.volumeKey!),
    ];
    expect(show(await spot.sim.mismatches(v.trainingRole, 'Allowed', [...allowed, ...trainingRoleChecks(v).allowed]))).toEqual([]);
    // Every default-configuration denial still holds, except the checkpoint ones it now needs.
    const stillDenied = trainingRoleChecks(v).denied.filter((d) => !d.resource.includes('/checkpoints/'));
    expect(show(await spot.sim.mismatches(v.trainingRole, 'Denied', [...denied, ...stillDenied]))).toEqual([]);
  });
});

describe('the checks can fail', () => {
  // Injected over-grants: each must flip a denied check to allowed.
  const variant = build({}, (job, _stack, lake) => {
    lake.grantWrite(job.role, DataZone.CURATED); // write its input zone
    lake.grantRead(job.role, DataZone.CLEAN); // another zone
    (job.role as iam.Role).grantPassRole((job.stateMachine as any).role); // PassRole to any service
    ((job.stateMachine as any).role as iam.Role).addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sagemaker:UpdateModelPackage'], resources: ['*'] }));
    lake.grantWrite(job.publishModelFunction, DataZone.MODELS); // the whole models zone
    lake.grantRead(job.publishModelFunction, DataZone.CURATED, 'lineage/*'); // reading lineage back
  });
  const v = subjects(variant);

  test('injected grants show up as denied checks that are now allowed', async () => {
    const flipped = async (roleId: string, checks: RequestCheck[]) =>
      (await variant.sim.mismatches(roleId, 'Denied', checks)).map((o) => `${o.action} ${o.resource.replace(/^arn:aws:s3:::/, '')}${o.context ? ' ' + JSON.stringify(o.context) : ''}`);
    expect(await flipped(v.trainingRole, trainingRoleChecks(v).denied)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^s3:PutObject bucket-lakecurated.*train\.manifest/),
      expect.stringMatching(/^s3:GetObject bucket-lakeclean.*\/hearing\/records\//),
    ]));
    expect(await flipped(v.machineRole, machineRoleChecks(v).denied)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^iam:PassRole .*lambda\.amazonaws\.com/),
      expect.stringMatching(/^iam:PassRole .*ec2\.amazonaws\.com/),
      expect.stringMatching(/^sagemaker:UpdateModelPackage /),
    ]));
    expect(await flipped(v.publishRole, publishRoleChecks(v).denied)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^s3:PutObject bucket-lakemodels.*\/hearing-who-grade\/records\//),
      expect.stringMatching(/^s3:PutObject bucket-lakemodels.*\/monitoring\/captures\//),
      expect.stringMatching(/^s3:PutObject bucket-lakemodels.*\/lineage\/events\//),
      expect.stringMatching(/^s3:GetObject bucket-lakecurated.*\/lineage\/events\//),
    ]));
  });
});
