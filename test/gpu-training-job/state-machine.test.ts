/**
 * The synthesized training state machine, run in a local Step Functions interpreter
 * (aws-local-stepfunctions 3, Node 22) with every Task state replaced by a local handler:
 * success, transient failures retried to success, permanent failures that reach the Fail state
 * with a recorded cause, and gate rejections.
 */
import { createHash } from 'node:crypto';
import { bucketNames, definition, Fixture, GATES, METRICS, trainingStack } from './training-fixture';
import { buildDatasetVersion } from '../../src/labeling-pipeline/runtime/logic/dataset';
import { awsError, localSfn, LocalSfn, startLocalExecution, TaskHandler } from '../support/local-sfn';

// A short id: the interpreter's own MD5 (States.Hash) is wrong for inputs of 56 bytes or more (its
// padding), which real execution ARNs are; Step Functions computes a correct MD5.
const EXECUTION_ID = 'execution:Training:run-1';
const TASKS = [
  'ReadDatasetCard', 'Train', 'PublishModel', 'RegisterModel', 'WriteModelRecord', 'PublishModelTrained', 'PublishModelRejected', 'PublishTrainingFailed',
] as const;
type TaskName = typeof TASKS[number];

const { StateMachine, ExecutionError } = localSfn;

const fixture: Fixture = trainingStack({
  metricDefinitions: METRICS,
  gates: GATES,
  hyperparameters: { epochs: '20' },
  useSpotInstances: true,
  datasetTrigger: {},
});
const asl = definition(fixture);
const { curated, models } = bucketNames(fixture);
const LOCATION = `s3://${curated}/hearing/datasets/hearing-v12/`;
const INPUT = { datasetVersion: 'hearing-v12', location: LOCATION };
const JOB_NAME = `hearing-who-grade-${createHash('md5').update(EXECUTION_ID).digest('hex')}`;
const ARTIFACT = `s3://${models}/hearing-who-grade/training-jobs/${JOB_NAME}/output/model.tar.gz`;
const PACKAGE_ARN = 'arn:aws:sagemaker:eu-central-1:111111111111:model-package/hearing-who-grade/3';
const MODEL_SHA = 'ab'.repeat(32);
const MODEL_KEY = `hearing-who-grade/models/${JOB_NAME}/model.onnx`;
const BASELINE_KEY = `monitoring/baselines/${MODEL_SHA}.json`;
const BASELINE_SHA = 'cd'.repeat(32);

/** What the PublishModel function returns (the Lambda integration wraps it in Payload). */
function published(withBaseline = true) {
  const baseline = withBaseline ? { key: BASELINE_KEY, sha256: BASELINE_SHA } : null;
  return {
    StatusCode: 200,
    Payload: {
      modelSha256: MODEL_SHA,
      modelKey: MODEL_KEY,
      modelBytes: 7476,
      baselineKey: baseline?.key ?? null,
      baselineSha256: baseline?.sha256 ?? null,
      model: { key: MODEL_KEY, sha256: MODEL_SHA, bytes: 7476 },
      baseline,
    },
  };
}

function trainingResult(metrics?: Array<{ MetricName: string; Value: number }>) {
  return {
    TrainingJobName: JOB_NAME,
    TrainingJobArn: `arn:aws:sagemaker:eu-central-1:111111111111:training-job/${JOB_NAME}`,
    TrainingJobStatus: 'Completed',
    ModelArtifacts: { S3ModelArtifacts: ARTIFACT },
    ...(metrics ? { FinalMetricDataList: metrics.map((m) => ({ ...m, Timestamp: '2026-03-01T12:00:00Z' })) } : {}),
  };
}

/** What S3 GetObject returns for a dataset card (the SDK integration gives the body as text). */
function cardObject(card: Record<string, unknown>) {
  return { Body: JSON.stringify(card, null, 2) + '\n', ContentType: 'application/json', ETag: '"card"' };
}
const PUBLISHED_CARD = { datasetVersion: 'hearing-v12', published: true, counts: { train: 40, validation: 5, test: 5, total: 50 } };

const GOOD_METRICS = [
  { MetricName: 'validation:accuracy', Value: 0.94 },
  { MetricName: 'validation:loss', Value: 0.31 },
];

/** The context object (the interpreter fills in Execution.Input and StartTime, not State). */
const CONTEXT = (input: unknown): any => ({
  Execution: { Id: EXECUTION_ID, Name: 'run-1', Input: input },
  State: { EnteredTime: '2026-03-01T12:05:00Z', Name: 'WriteModelRecord', RetryCount: 0 },
  StateMachine: { Id: 'arn:aws:states:eu-central-1:111111111111:stateMachine:Training', Name: 'Training' },
});

interface Run {
  readonly output?: any;
  readonly error?: LocalSfn.ExecutionError;
  readonly calls: Record<TaskName, any[]>;
  readonly events: any[];
}

/** Run the definition; each task's handler gets its effective input (after Parameters). */
async function run(handlers: Partial<Record<TaskName, TaskHandler>>, input: unknown = INPUT): Promise<Run> {
  const defaults: Record<TaskName, TaskHandler> = {
    ReadDatasetCard: () => cardObject(PUBLISHED_CARD),
    Train: () => trainingResult(GOOD_METRICS),
    PublishModel: () => published(),
    RegisterModel: () => ({ ModelPackageArn: PACKAGE_ARN }),
    WriteModelRecord: () => ({ ETag: '"abc"' }),
    PublishModelTrained: () => ({ Entries: [{ EventId: '1' }], FailedEntryCount: 0 }),
    PublishModelRejected: () => ({ Entries: [{ EventId: '2' }], FailedEntryCount: 0 }),
    PublishTrainingFailed: () => ({ Entries: [{ EventId: '3' }], FailedEntryCount: 0 }),
  };
  const machine = new StateMachine(asl as any, { validationOptions: { checkArn: false } });
  const { done } = startLocalExecution(machine, input, {
    taskNames: TASKS,
    handlerOf: (t) => handlers[t as TaskName] ?? defaults[t as TaskName],
    context: CONTEXT(input),
  });
  return (await done) as Run;
}

const detailOf = (call: any) => call.Entries[0].Detail;
const entered = (r: Run) => r.events.filter((e) => e.type === 'StateEntered').map((e) => e.state.name);

describe('success', () => {
  let r: Run;
  beforeAll(async () => { r = await run({}); });

  test('trains with one job name per execution, the dataset version\'s manifests and checkpoints in the models zone', () => {
    expect(r.error).toBeUndefined();
    expect(r.calls.Train).toHaveLength(1);
    const params = r.calls.Train[0];
    expect(params.TrainingJobName).toBe(JOB_NAME);
    expect(params.TrainingJobName.length).toBeLessThanOrEqual(63);
    expect(params.TrainingJobName).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
    expect(params.InputDataConfig.map((c: any) => [c.ChannelName, c.DataSource.S3DataSource.S3Uri])).toEqual([
      ['train', `${LOCATION}train.manifest`],
      ['validation', `${LOCATION}validation.manifest`],
    ]);
    expect(params.CheckpointConfig).toEqual({ S3Uri: `s3://${models}/hearing-who-grade/checkpoints/${JOB_NAME}/`, LocalPath: '/opt/ml/checkpoints' });
    expect(params.HyperParameters).toEqual({ epochs: '20' });
  });

  test('registers the model in the model registry with its lineage', () => {
    expect(r.calls.RegisterModel).toHaveLength(1);
    expect(r.calls.RegisterModel[0]).toMatchObject({
      ModelPackageGroupName: 'hearing-who-grade',
      ModelApprovalStatus: 'PendingManualApproval',
      InferenceSpecification: { Containers: [{ ModelDataUrl: ARTIFACT }] },
      CustomerMetadataProperties: {
        datasetVersion: 'hearing-v12',
        trainingJobName: JOB_NAME,
        modelRecord: `s3://${models}/hearing-who-grade/records/${JOB_NAME}.json`,
        modelSha256: MODEL_SHA,
      },
    });
  });

  test('writes the model record to the models zone', () => {
    expect(r.calls.WriteModelRecord).toHaveLength(1);
    const put = r.calls.WriteModelRecord[0];
    expect(put).toMatchObject({ Bucket: models, Key: `hearing-who-grade/records/${JOB_NAME}.json`, ContentType: 'application/json' });
    expect(put.Body).toMatchObject({
      schemaVersion: '1',
      modelName: 'hearing-who-grade',
      modelSha256: MODEL_SHA,
      datasetVersion: 'hearing-v12',
      modelArtifact: ARTIFACT,
      modelPackageArn: PACKAGE_ARN,
      instanceType: 'ml.g5.xlarge',
      hyperparameters: { epochs: '20' },
      execution: EXECUTION_ID,
    });
    expect(put.Body.metrics.map((m: any) => [m.MetricName, m.Value])).toEqual([['validation:accuracy', 0.94], ['validation:loss', 0.31]]);
    expect(put.Body.model).toEqual({ key: MODEL_KEY, sha256: MODEL_SHA, bytes: 7476 });
    expect(put.Body.baseline).toEqual({ key: BASELINE_KEY, sha256: BASELINE_SHA });
  });

  test('publishes the model out of the job\'s archive after the gates, before it is registered, with what its lineage event needs', () => {
    expect(r.calls.PublishModel).toHaveLength(1);
    expect(r.calls.PublishModel[0].Payload).toEqual({
      modelArtifact: ARTIFACT,
      trainingJobName: JOB_NAME,
      // the training run's lineage event: the dataset version in, dated by the state's entered time
      datasetVersion: 'hearing-v12',
      datasetLocation: LOCATION,
      eventTime: CONTEXT(INPUT).State.EnteredTime,
    });
  });

  test('puts "Model Trained" with the artifact, the package, the record and the metrics', () => {
    expect(r.calls.PublishModelTrained).toHaveLength(1);
    const entry = r.calls.PublishModelTrained[0].Entries[0];
    expect(entry.Source).toBe('cdk-secure-mlops.gpu-training-job');
    expect(entry.DetailType).toBe('Model Trained');
    expect(detailOf(r.calls.PublishModelTrained[0])).toMatchObject({
      model: 'hearing-who-grade',
      datasetVersion: 'hearing-v12',
      location: LOCATION,
      trainingJobName: JOB_NAME,
      modelArtifact: ARTIFACT,
      modelPackageArn: PACKAGE_ARN,
      modelRecord: `s3://${models}/hearing-who-grade/records/${JOB_NAME}.json`,
      modelSha256: MODEL_SHA,
      modelKey: MODEL_KEY,
      baselineKey: BASELINE_KEY,
    });
    expect(r.calls.PublishModelRejected).toHaveLength(0);
    expect(r.calls.PublishTrainingFailed).toHaveLength(0);
    expect(entered(r)).toEqual([
      'ValidateInput', 'PrepareJob', 'MatchDatasetLocation', 'ReadDatasetCard', 'CheckDatasetCard',
      'Train', 'HasMetrics', 'ReadMetrics', 'SelectGateMetrics', 'Gate0', 'Gate1', 'PublishModel', 'RegisterModel', 'WriteModelRecord', 'PublishModelTrained', 'ModelTrained',
    ]);
  });

  test('reads the dataset card of the version in the curated zone before it trains', () => {
    expect(r.calls.ReadDatasetCard).toEqual([{ Bucket: curated, Key: 'hearing/datasets/hearing-v12/dataset-card.json' }]);
  });
});

describe('transient failures are retried to success', () => {
  test('the training task after two SageMaker API errors, registration after throttling, the event after a failed entry', async () => {
    let trainCalls = 0;
    let registerCalls = 0;
    let publishCalls = 0;
    const r = await run({
      Train: () => {
        if (++trainCalls <= 2) throw awsError('SageMaker.AmazonSageMakerException', 'Rate exceeded (Service: AmazonSageMaker; Status Code: 400; Error Code: ThrottlingException)');
        return trainingResult(GOOD_METRICS);
      },
      RegisterModel: () => {
        if (++registerCalls === 1) throw awsError('SageMaker.SageMakerException', 'Rate exceeded');
        return { ModelPackageArn: PACKAGE_ARN };
      },
      PublishModelTrained: () => {
        if (++publishCalls === 1) throw awsError('EventBridge.FailedEntry', 'ThrottlingException');
        return { Entries: [{ EventId: '1' }], FailedEntryCount: 0 };
      },
    });
    expect(r.error).toBeUndefined();
    expect([r.calls.Train.length, r.calls.RegisterModel.length, r.calls.PublishModelTrained.length]).toEqual([3, 2, 2]);
    expect(r.calls.PublishTrainingFailed).toHaveLength(0);
    expect(r.events.filter((e) => e.type === 'StateRetried').map((e) => e.state.name)).toEqual(['Train', 'Train', 'RegisterModel', 'PublishModelTrained']);
    // a retried Train call is the same job (same name), not a new one
    expect(new Set(r.calls.Train.map((c) => c.TrainingJobName))).toEqual(new Set([JOB_NAME]));
  });

  test('retries are bounded: a persistent throttling error fails after 3 retries', async () => {
    const r = await run({ WriteModelRecord: () => { throw awsError('S3.S3Exception', 'SlowDown'); } });
    expect(r.calls.WriteModelRecord).toHaveLength(4);
    expect(r.error).toBeInstanceOf(ExecutionError);
    expect(detailOf(r.calls.PublishTrainingFailed[0]).error).toBe('S3.S3Exception');
  });
});

describe('permanent failures reach the Fail state with a recorded cause', () => {
  test('a failed training job is not retried; "Training Failed" is put, then the execution fails with the job\'s cause', async () => {
    const cause = JSON.stringify({ TrainingJobStatus: 'Failed', FailureReason: 'AlgorithmError: see the training job logs' });
    const r = await run({ Train: () => { throw awsError('States.TaskFailed', cause); } });
    expect(r.calls.Train).toHaveLength(1);
    expect(r.calls.RegisterModel).toHaveLength(0);
    expect(r.calls.PublishTrainingFailed).toHaveLength(1);
    expect(r.calls.PublishTrainingFailed[0].Entries[0].DetailType).toBe('Training Failed');
    expect(detailOf(r.calls.PublishTrainingFailed[0])).toEqual({ model: 'hearing-who-grade', execution: EXECUTION_ID, error: 'States.TaskFailed' });
    const failed = r.events.find((e) => e.type === 'ExecutionFailed');
    expect(failed).toMatchObject({ Error: 'States.TaskFailed' });
    expect(String(failed.Cause)).toContain('AlgorithmError');
    expect(entered(r).slice(-2)).toEqual(['PublishTrainingFailed', 'TrainingFailed']);
  });

  test('the Fail state still records the cause when the failure event cannot be put', async () => {
    const r = await run({
      Train: () => { throw awsError('States.TaskFailed', 'ResourceLimitExceeded: ml.g5.xlarge'); },
      PublishTrainingFailed: () => { throw awsError('EventBridge.AccessDeniedException', 'not authorized'); },
    });
    const failed = r.events.find((e) => e.type === 'ExecutionFailed');
    expect(failed).toMatchObject({ Error: 'States.TaskFailed' });
    expect(String(failed.Cause)).toContain('ResourceLimitExceeded');
  });

  test.each([
    ['no location', { datasetVersion: 'hearing-v12' }],
    ['no dataset version', { location: LOCATION }],
    ['a location outside the dataset prefix', { datasetVersion: 'v1', location: `s3://${curated}/other/datasets/v1/` }],
    ['another bucket', { datasetVersion: 'v1', location: 's3://someone-elses-bucket/hearing/datasets/v1/' }],
    ['a number as dataset version', { datasetVersion: 12, location: LOCATION }],
  ])('invalid input (%s) trains nothing and fails with InvalidInput', async (_name, input) => {
    const r = await run({}, input);
    expect(r.calls.Train).toHaveLength(0);
    expect(detailOf(r.calls.PublishTrainingFailed[0]).error).toBe('InvalidInput');
    const failed = r.events.find((e) => e.type === 'ExecutionFailed');
    expect(failed).toMatchObject({ Error: 'InvalidInput' });
    expect(String(failed.Cause)).toContain('s3://<curated bucket>/hearing/datasets/<version>/');
  });
});

describe('a dataset version is trained only when its card says it was published (an event may be forged)', () => {
  const trigger = fixture.template.toJSON().Resources[Object.keys(fixture.template.findResources('AWS::Events::Rule')).find((id) => id.startsWith('JobDatasetTrigger'))!];
  /** The state machine input EventBridge makes of an event (the trigger rule's input transformer). */
  function inputOf(event: any): unknown {
    const t = trigger.Properties.Targets[0].InputTransformer;
    const at = (p: string) => p.slice(2).split('.').reduce((o: any, k) => o?.[k], event);
    const text = (t.InputTemplate as string).replace(/<([^>]+)>/g, (_m, name) => JSON.stringify(at(t.InputPathsMap[name])));
    return JSON.parse(text);
  }
  const forged = (version: string) => ({
    'version': '0',
    'source': 'cdk-secure-mlops.labeling-pipeline',
    'detail-type': 'Dataset Version Published',
    'detail': { pipeline: 'hearing', datasetVersion: version, location: `s3://${curated}/hearing/datasets/${version}/` },
  });

  async function refused(card: () => unknown, input: unknown) {
    const r = await run({ ReadDatasetCard: card }, input);
    expect(r.calls.Train).toHaveLength(0);
    expect(r.calls.RegisterModel).toHaveLength(0);
    expect(r.calls.PublishModelTrained).toHaveLength(0);
    expect(r.calls.PublishTrainingFailed).toHaveLength(1);
    expect(detailOf(r.calls.PublishTrainingFailed[0]).error).toBe('DatasetNotPublished');
    const failed = r.events.find((e) => e.type === 'ExecutionFailed');
    expect(failed).toMatchObject({ Error: 'DatasetNotPublished' });
    return { r, cause: String(failed.Cause) };
  }

  test('a forged "Dataset Version Published" event for a blocked version trains nothing, and the reason is recorded', async () => {
    const input = inputOf(forged('hearing-v13'));
    expect(input).toEqual({ datasetVersion: 'hearing-v13', location: `s3://${curated}/hearing/datasets/hearing-v13/` });
    const { r, cause } = await refused(() => cardObject({ datasetVersion: 'hearing-v13', published: false }), input);
    expect(r.calls.ReadDatasetCard).toEqual([{ Bucket: curated, Key: 'hearing/datasets/hearing-v13/dataset-card.json' }]);
    expect(cause).toBe(`the dataset card at s3://${curated}/hearing/datasets/hearing-v13/dataset-card.json does not say that this version was published (its quality gates blocked it: see its quality report), or it names another version`);
    expect(entered(r).slice(-4)).toEqual(['CheckDatasetCard', 'DatasetNotPublished', 'PublishTrainingFailed', 'TrainingFailed']);
  });

  test('a version without a card (never completed, or forged) trains nothing', async () => {
    const { r, cause } = await refused(() => { throw awsError('S3.NoSuchKeyException', 'The specified key does not exist.'); }, inputOf(forged('hearing-v99')));
    expect(r.calls.ReadDatasetCard).toHaveLength(1);
    expect(cause).toBe(`no dataset card could be read at s3://${curated}/hearing/datasets/hearing-v99/dataset-card.json (S3.NoSuchKeyException): the version was never completed, or it is not in this lake`);
  });

  test('a card that cannot be read (access denied, retried first) trains nothing', async () => {
    const { r, cause } = await refused(() => { throw awsError('S3.S3Exception', 'Access Denied (Service: S3, Status Code: 403)'); }, INPUT);
    expect(r.calls.ReadDatasetCard).toHaveLength(4);
    expect(cause).toContain('(S3.S3Exception)');
  });

  test.each([
    ['names another version', { datasetVersion: 'hearing-v11', published: true }],
    ['has no published flag (a card written before the flag)', { datasetVersion: 'hearing-v12' }],
    ['says published as text', { datasetVersion: 'hearing-v12', published: 'true' }],
    ['has no version', { published: true }],
    ['is not an object', ['hearing-v12', true]],
  ])('a card that %s trains nothing', async (_name, card) => {
    await refused(() => cardObject(card as Record<string, unknown>), INPUT);
  });

  test('a location that is not the version\'s own folder is invalid input, and no card is read', async () => {
    const r = await run({}, { datasetVersion: 'hearing-v12', location: `s3://${curated}/hearing/datasets/hearing-v13/` });
    expect(r.calls.ReadDatasetCard).toHaveLength(0);
    expect(r.calls.Train).toHaveLength(0);
    expect(detailOf(r.calls.PublishTrainingFailed[0]).error).toBe('InvalidInput');
  });

  test('the card the dataset handler writes says published exactly when the quality gates passed', () => {
    const label = (recordId: string) => ({
      recordId, attribute: 'who-grade', classIndex: 0, className: 'normal', confidence: 1, human: false, labeler: 'rules:x@1', createdAt: '2026-03-01T12:00:00Z', votes: [],
    });
    const build = (minRecords: number) => buildDatasetVersion({
      datasetVersion: 'hearing-v12',
      jobName: 'labeling-pipeline/hearing/hearing-v12',
      now: Date.parse('2026-03-01T12:00:00Z'),
      attribute: 'who-grade',
      classes: ['normal'],
      records: ['a', 'b', 'c'].map((id) => ({ recordId: id, subject: `hmac:${id}`, sourceRef: `s3://clean/${id}.json`, label: label(id) })),
      quarantined: [],
      split: { train: 1, validation: 0, test: 0 },
      schemaSha256: '0'.repeat(64),
      versions: {},
      gates: { minRecords },
    });
    expect([build(3).card.published, build(3).report.publish]).toEqual([true, true]);
    expect([build(4).card.published, build(4).report.publish]).toEqual([false, false]);
    expect(build(3).card.datasetVersion).toBe('hearing-v12');
  });
});

describe('gate rejection', () => {
  test.each([
    ['accuracy below the threshold', [{ MetricName: 'validation:accuracy', Value: 0.85 }, { MetricName: 'validation:loss', Value: 0.31 }]],
    ['loss at the threshold (LESS_THAN)', [{ MetricName: 'validation:accuracy', Value: 0.95 }, { MetricName: 'validation:loss', Value: 0.5 }]],
    ['a gate metric missing', [{ MetricName: 'validation:accuracy', Value: 0.95 }]],
    ['no metrics at all', undefined],
  ])('%s: "Model Rejected", nothing registered, the execution succeeds', async (_name, metrics) => {
    const r = await run({ Train: () => trainingResult(metrics) });
    expect(r.error).toBeUndefined();
    expect(r.calls.PublishModel).toHaveLength(0);
    expect(r.calls.RegisterModel).toHaveLength(0);
    expect(r.calls.WriteModelRecord).toHaveLength(0);
    expect(r.calls.PublishModelTrained).toHaveLength(0);
    expect(r.calls.PublishModelRejected).toHaveLength(1);
    const entry = r.calls.PublishModelRejected[0].Entries[0];
    expect(entry.DetailType).toBe('Model Rejected');
    expect(entry.Detail).toMatchObject({
      model: 'hearing-who-grade',
      datasetVersion: 'hearing-v12',
      trainingJobName: JOB_NAME,
      metrics: (metrics ?? []).map((m) => expect.objectContaining(m)),
      gates: GATES.map((g) => ({ metricName: g.metricName, comparison: g.comparison, threshold: g.threshold })),
    });
    expect(entered(r).slice(-2)).toEqual(['PublishModelRejected', 'ModelRejected']);
  });

  test('the boundary passes a GREATER_THAN_OR_EQUAL gate', async () => {
    const r = await run({ Train: () => trainingResult([{ MetricName: 'validation:accuracy', Value: 0.9 }, { MetricName: 'validation:loss', Value: 0.1 }]) });
    expect(r.calls.RegisterModel).toHaveLength(1);
  });
});

test('without gates every trained model is registered', async () => {
  const noGates = definition(trainingStack({ metricDefinitions: METRICS }));
  const machine = new StateMachine(noGates as any, { validationOptions: { checkArn: false } });
  const seen: string[] = [];
  const handler = (name: string, result: unknown) => async () => { seen.push(name); return result as any; };
  const execution = machine.run(INPUT, {
    overrides: {
      taskResourceLocalHandlers: {
        ReadDatasetCard: handler('ReadDatasetCard', cardObject(PUBLISHED_CARD)),
        Train: handler('Train', trainingResult()),
        PublishModel: handler('PublishModel', published(false)),
        RegisterModel: handler('RegisterModel', { ModelPackageArn: PACKAGE_ARN }),
        WriteModelRecord: handler('WriteModelRecord', {}),
        PublishModelTrained: handler('PublishModelTrained', {}),
      },
    },
    context: CONTEXT(INPUT),
  });
  await execution.result;
  expect(seen).toEqual(['ReadDatasetCard', 'Train', 'PublishModel', 'RegisterModel', 'WriteModelRecord', 'PublishModelTrained']);
});

describe('publishing the model', () => {
  test.each([
    ['ModelFileMissing', 'the model archive of the job holds no model.onnx'],
    ['BaselineModelMismatch', 'baseline.json in the model archive describes another model'],
    ['InvalidModelArchive', 'the model archive is not a gzip-compressed tar archive'],
  ])('%s: nothing registered, "Training Failed" with the error, the cause recorded', async (error, cause) => {
    const r = await run({ PublishModel: () => { throw awsError(error, cause); } });
    expect(r.calls.PublishModel).toHaveLength(1);
    expect(r.calls.RegisterModel).toHaveLength(0);
    expect(r.calls.WriteModelRecord).toHaveLength(0);
    expect(r.calls.PublishModelTrained).toHaveLength(0);
    expect(detailOf(r.calls.PublishTrainingFailed[0])).toEqual({ model: 'hearing-who-grade', execution: EXECUTION_ID, error });
    const failed = r.events.find((e) => e.type === 'ExecutionFailed');
    expect(failed).toMatchObject({ Error: error });
    expect(String(failed.Cause)).toContain(cause);
  });

  test('transient failures (Lambda throttling, S3 SlowDown) are retried to success', async () => {
    let calls = 0;
    const r = await run({
      PublishModel: () => {
        calls++;
        if (calls === 1) throw awsError('Lambda.TooManyRequestsException', 'Rate exceeded');
        if (calls === 2) throw awsError('SlowDown', 'Please reduce your request rate.');
        return published();
      },
    });
    expect(r.error).toBeUndefined();
    expect(r.calls.PublishModel).toHaveLength(3);
    expect(r.calls.RegisterModel).toHaveLength(1);
    // Each retry gets the same payload (the event time included), so it writes the same lineage event.
    expect(new Set(r.calls.PublishModel.map((c) => JSON.stringify(c.Payload))).size).toBe(1);
  });

  test('a model without a baseline: the record and the event say null', async () => {
    const r = await run({ PublishModel: () => published(false) });
    expect(r.calls.WriteModelRecord[0].Body.baseline).toBeNull();
    expect(r.calls.WriteModelRecord[0].Body.model).toEqual({ key: MODEL_KEY, sha256: MODEL_SHA, bytes: 7476 });
    expect(detailOf(r.calls.PublishModelTrained[0])).toMatchObject({ modelSha256: MODEL_SHA, modelKey: MODEL_KEY, baselineKey: null });
  });
});
