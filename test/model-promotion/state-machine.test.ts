/**
 * The synthesized promotion state machine, run in a local Step Functions interpreter
 * (aws-local-stepfunctions) with the real candidate check (check-candidate.ts over an in-memory
 * S3) and every other Task state replaced by a small simulation of Lambda, CodeDeploy, S3 and
 * EventBridge: success, hash mismatch, missing baseline, gate failure, approval (approved,
 * rejected, timed out), canary rollback, a concurrent change of the function, invalid input and
 * idempotence per model version. Each path's states and interpreter time are printed at the end.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FakeS3 } from './fake-s3';
import { MODEL_NAME, modelsBucketName, PartialPromotionProps, promotionDefinition, promotionStack } from './promotion-fixture';
import { MetricComparison } from '../../src/gpu-training-job/training-options';
import { createCheckCandidateHandler } from '../../src/model-promotion/runtime/check-candidate';
import { createRecordLineageHandler } from '../../src/model-promotion/runtime/record-lineage';
import { awsError, localSfn } from '../support/local-sfn';

const TASKS = [
  'CheckCandidate', 'RequestApproval', 'WaitForApproval', 'ReadFunctionConfiguration', 'UpdateModelEnvironment', 'ReadUpdateStatus',
  'PublishModelVersion', 'ReadLiveAlias', 'StartRollout', 'ReadRollout', 'RecordPromotedModel', 'RestoreModelEnvironment',
  'WriteAudit', 'PublishOutcome', 'PublishInputFailed', 'RecordLineage',
] as const;
type TaskName = typeof TASKS[number];
type Handler = (input: any) => unknown;

const GATES = [{ metricName: 'validation:accuracy', comparison: MetricComparison.GREATER_THAN_OR_EQUAL, threshold: 0.9 }];
const JOB = 'hearing-who-grade-0123456789abcdef0123456789abcdef';
const MODEL_KEY = `${MODEL_NAME}/models/${JOB}/model.onnx`;
const RECORD_KEY = `${MODEL_NAME}/records/${JOB}.json`;
const MODEL_BYTES = Buffer.from('onnx model bytes '.repeat(300));
const SHA = createHash('sha256').update(MODEL_BYTES).digest('hex');
const VERSION = `${MODEL_NAME}@7`;
const VERSION_FOLDER = 'monitoring/promotions/model=hearing-who-grade%407/';
const OLD_SHA = 'a'.repeat(64);

const plain = promotionStack({ gates: GATES });
const withApproval = promotionStack({ gates: GATES, approval: {} });
const BUCKET = modelsBucketName(plain);
const RECORD_URI = `s3://${BUCKET}/${RECORD_KEY}`;
const ENDPOINT_NAME = plain.promotion.lineageEndpointName;

/** The world the Task states act on. */
class World {
  public readonly s3 = new FakeS3();
  /** The lake's curated zone (lineage). */
  public readonly curated = new FakeS3();
  public env: Record<string, string> = {
    MODEL_SOURCE: 's3',
    MODEL_BUCKET: BUCKET,
    MODEL_KEY: `${MODEL_NAME}/models/first/model.onnx`,
    MODEL_OBJECT_VERSION: 'old-version',
    MODEL_SHA256: OLD_SHA,
    MODEL_VERSION: `${MODEL_NAME}@1`,
    CLASS_NAMES: '["a","b"]',
    MAX_BATCH: '64',
    POWERTOOLS_SERVICE_NAME: 'Promotion/Predict',
  };
  public revision = 1;
  public readonly versions: Array<Record<string, string>> = [{}];
  public alias = '1';
  /** LastUpdateStatus answers after an update, in order (then Successful). */
  public updateStatuses = ['InProgress', 'InProgress'];
  /** Deployment statuses, in order (the last one repeats). */
  public rolloutStatuses = ['Created', 'InProgress', 'Succeeded'];
  public readonly events: any[] = [];
  public readonly parameters = new Map<string, string>();
  /** Execution statuses DescribeExecution answers (by ARN). */
  public readonly executions = new Map<string, string>();
  public readonly appSpecs: any[] = [];

  constructor(options: { sha?: string; accuracy?: number; baseline?: boolean } = {}) {
    this.s3.put(MODEL_KEY, MODEL_BYTES);
    this.s3.put(RECORD_KEY, JSON.stringify({
      schemaVersion: '1',
      model: { key: MODEL_KEY, sha256: options.sha ?? SHA, bytes: MODEL_BYTES.length },
      baseline: { key: `monitoring/baselines/${SHA}.json`, sha256: 'b'.repeat(64) },
      trainingJobName: JOB,
      modelPackageArn: `arn:aws:sagemaker:eu-central-1:111111111111:model-package/${MODEL_NAME}/7`,
      metrics: [{ MetricName: 'validation:accuracy', Value: options.accuracy ?? 0.94 }, { MetricName: 'validation:loss', Value: 0.3 }],
    }));
    if (options.baseline ?? true) this.s3.put(`monitoring/baselines/${SHA}.json`, JSON.stringify({ schemaVersion: '1', modelSha256: SHA, rowCount: 50 }));
  }

  public audits(): Array<{ key: string; body: any }> {
    return [...this.s3.objects.keys()].filter((k) => /\/[^/]+-(promoted|rejected|rolled-back|failed)\.json$/.test(k)).map((key) => ({ key, body: JSON.parse(this.s3.text(key)!) }));
  }

  /** The lineage events in the curated zone. */
  public lineageEvents(): Array<{ key: string; body: any }> {
    return [...this.curated.objects.keys()].filter((k) => k.startsWith('lineage/events/')).map((key) => ({ key, body: JSON.parse(this.curated.text(key)!) }));
  }

  public handlers(): Record<TaskName, Handler> {
    const lineage = createRecordLineageHandler({
      s3: this.curated.client(),
      env: { curatedBucket: 'curated', kmsKeyArn: 'arn:aws:kms:eu-central-1:111111111111:key/lake', endpointName: ENDPOINT_NAME },
      log: () => undefined,
    });
    const executions = this.executions;
    const check = createCheckCandidateHandler({
      s3: this.s3.client(),
      sfn: { send: async (c: any) => ({ status: executions.get(c.input.executionArn) ?? 'RUNNING' }) } as any,
      env: { modelsBucket: BUCKET, modelName: MODEL_NAME, requireBaseline: true, gates: GATES },
      now: () => Date.parse('2026-03-02T10:00:00Z'),
      log: () => undefined,
    });
    const config = () => ({ Environment: { Variables: { ...this.env } }, RevisionId: `rev-${this.revision}` });
    const event = (call: any) => {
      this.events.push(call.Entries[0]);
      return { Entries: [{ EventId: String(this.events.length) }], FailedEntryCount: 0 };
    };
    return {
      CheckCandidate: async (input) => ({ Payload: await check(input.Payload), StatusCode: 200 }),
      RequestApproval: event,
      WaitForApproval: (p) => { this.s3.put(p.Key, JSON.stringify(p.Body)); return { decision: 'APPROVED', approver: 'arn:aws:iam::111111111111:role/release-manager', decidedAt: '2026-03-02T11:00:00Z', comment: '' }; },
      ReadFunctionConfiguration: config,
      UpdateModelEnvironment: (p) => {
        if (p.RevisionId !== `rev-${this.revision}`) throw awsError('Lambda.PreconditionFailedException', 'revision changed');
        this.env = { ...p.Environment.Variables };
        this.revision++;
        return { LastUpdateStatus: 'InProgress', RevisionId: `rev-${this.revision}` };
      },
      ReadUpdateStatus: () => ({ ...config(), LastUpdateStatus: this.updateStatuses.shift() ?? 'Successful' }),
      PublishModelVersion: (p) => {
        if (p.RevisionId !== `rev-${this.revision}`) throw awsError('Lambda.PreconditionFailedException', 'revision changed');
        this.versions.push({ ...this.env });
        return { Version: String(this.versions.length), Description: p.Description };
      },
      ReadLiveAlias: () => ({ Name: 'live', FunctionVersion: this.alias }),
      StartRollout: (p) => { this.appSpecs.push(JSON.parse(p.Revision.AppSpecContent.Content)); return { DeploymentId: 'd-ABCDEF123' }; },
      ReadRollout: () => {
        const status = this.rolloutStatuses.length > 1 ? this.rolloutStatuses.shift()! : this.rolloutStatuses[0];
        if (status === 'Succeeded') this.alias = this.appSpecs.at(-1).Resources[0].endpoint.Properties.TargetVersion;
        return { DeploymentInfo: { DeploymentId: 'd-ABCDEF123', Status: status } };
      },
      RecordPromotedModel: (p) => { this.parameters.set(p.Name, p.Value); return { Version: 1, Tier: 'Standard' }; },
      RestoreModelEnvironment: (p) => {
        if (p.RevisionId !== `rev-${this.revision}`) throw awsError('Lambda.PreconditionFailedException', 'revision changed');
        this.env = { ...p.Environment.Variables };
        this.revision++;
        return {};
      },
      WriteAudit: (p) => { this.s3.put(p.Key, JSON.stringify(p.Body)); return { ETag: '"x"' }; },
      PublishOutcome: event,
      PublishInputFailed: event,
      RecordLineage: async (input) => ({ Payload: await lineage(input.Payload), StatusCode: 200 }),
    };
  }
}

interface Run {
  readonly world: World;
  readonly calls: Record<TaskName, any[]>;
  readonly entered: string[];
  readonly end: string;
  readonly failed: boolean;
  readonly ms: number;
}

const timings: Array<{ path: string; states: number; tasks: number; ms: number; end: string }> = [];

async function run(
  path: string,
  world: World,
  overrides: Partial<Record<TaskName, Handler>> = {},
  options: { approval?: boolean; input?: unknown; executionId?: string } = {},
): Promise<Run> {
  const asl = promotionDefinition(options.approval ? withApproval : plain);
  const handlers = { ...world.handlers(), ...overrides };
  const calls = Object.fromEntries(TASKS.map((t) => [t, [] as any[]])) as Record<TaskName, any[]>;
  const machine = new localSfn.StateMachine(asl as any, { validationOptions: { checkArn: false } });
  const input = options.input ?? { modelRecord: RECORD_URI };
  const id = options.executionId ?? 'arn:aws:states:eu-central-1:111111111111:execution:Promotion:run-1';
  const t0 = performance.now();
  const execution = machine.run(input as any, {
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(TASKS.map((t) => [t, async (i: any) => {
        calls[t].push(i);
        return (await handlers[t](i)) as any;
      }])),
      retryIntervalOverrides: Object.fromEntries(TASKS.map((t) => [t, 0])),
      waitTimeOverrides: { WaitForUpdate: 0, WaitForRollout: 0 },
    },
    context: {
      Execution: { Id: id, Name: 'run-1', Input: input, StartTime: '2026-03-02T10:00:00Z' },
      State: { EnteredTime: '2026-03-02T10:30:00Z', Name: 'x', RetryCount: 0 },
      StateMachine: { Id: 'arn:aws:states:eu-central-1:111111111111:stateMachine:Promotion', Name: 'Promotion' },
      Task: { Token: 'task-token-1' },
    } as any,
  });
  const events: any[] = [];
  const collect = (async () => { for await (const e of execution.eventLogs) events.push(e); })();
  let failed = false;
  try {
    await execution.result;
  } catch (e) {
    if (!(e instanceof localSfn.ExecutionError)) throw e;
    failed = true;
  }
  await collect.catch(() => undefined);
  const ms = performance.now() - t0;
  const entered = events.filter((e) => e.type === 'StateEntered').map((e) => e.state.name);
  const end = entered.at(-1)!;
  if (process.env.DEBUG_PROMOTION) console.log(JSON.stringify(events.filter((e) => /Fail/.test(e.type)), null, 1).slice(0, 3000));
  timings.push({ path, states: entered.length, tasks: Object.values(calls).reduce((n, c) => n + c.length, 0), ms, end });
  return { world, calls, entered, end, failed, ms };
}

afterAll(() => {
  const lines = timings.map((t) => `${t.path.padEnd(34)} ${String(t.states).padStart(6)} ${String(t.tasks).padStart(6)} ${t.ms.toFixed(1).padStart(8)}  ${t.end}`);
  console.log(['promotion state machine in the local interpreter (wait states at 0 s):', `${'path'.padEnd(34)} states  tasks       ms  final state`, ...lines].join('\n'));
});

describe('success', () => {
  let r: Run;
  beforeAll(async () => { r = await run('success', new World()); });

  test('ends in Promoted, the live alias on the new version', () => {
    expect(r.failed).toBe(false);
    expect(r.end).toBe('Promoted');
    expect(r.world.alias).toBe('2');
  });

  test('merges the model\'s variables into the function\'s and keeps every other variable', () => {
    expect(r.calls.UpdateModelEnvironment).toHaveLength(1);
    const update = r.calls.UpdateModelEnvironment[0];
    expect(update.RevisionId).toBe('rev-1');
    expect(update.Environment.Variables).toEqual({
      MODEL_SOURCE: 's3',
      MODEL_BUCKET: BUCKET,
      MODEL_KEY,
      MODEL_OBJECT_VERSION: 'v1',
      MODEL_SHA256: SHA,
      MODEL_VERSION: VERSION,
      CLASS_NAMES: '["a","b"]',
      MAX_BATCH: '64',
      POWERTOOLS_SERVICE_NAME: 'Promotion/Predict',
    });
  });

  test('waits for the update, then publishes exactly the revision it checked', () => {
    expect(r.calls.ReadUpdateStatus).toHaveLength(3);
    expect(r.calls.PublishModelVersion[0]).toMatchObject({ RevisionId: 'rev-2', Description: `${VERSION} (sha256 ${SHA})` });
    expect(r.world.versions[1].MODEL_SHA256).toBe(SHA);
  });

  test('CodeDeploy shifts the live alias from its version to the new one with the endpoint\'s group', () => {
    expect(r.calls.StartRollout).toHaveLength(1);
    expect(r.calls.StartRollout[0].Revision.RevisionType).toBe('AppSpecContent');
    expect(r.world.appSpecs[0]).toEqual({
      version: '0.0',
      Resources: [{ endpoint: { Type: 'AWS::Lambda::Function', Properties: { Name: expect.any(String), Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } } }],
    });
    expect(r.calls.ReadRollout).toHaveLength(3);
  });

  test('records the promoted model in the SSM parameter the app follows', () => {
    expect(r.calls.RecordPromotedModel[0]).toMatchObject({ Name: '/cdk-secure-mlops/model-promotion/hearing-who-grade/promoted-model', Type: 'String', Overwrite: true });
    expect(JSON.parse(r.world.parameters.get('/cdk-secure-mlops/model-promotion/hearing-who-grade/promoted-model')!)).toEqual({
      MODEL_SOURCE: 's3', MODEL_BUCKET: BUCKET, MODEL_KEY, MODEL_OBJECT_VERSION: 'v1', MODEL_SHA256: SHA, MODEL_VERSION: VERSION,
    });
  });

  test('writes one audit record with the version, SHA-256, checks, deployment and times, and a "Model Promoted" event', () => {
    const audits = r.world.audits();
    expect(audits).toHaveLength(1);
    expect(audits[0].key).toBe(`${VERSION_FOLDER}2026-03-02T10:30:00Z-promoted.json`);
    expect(audits[0].body).toMatchObject({
      schemaVersion: '1',
      outcome: 'promoted',
      reason: '',
      model: MODEL_NAME,
      modelVersion: VERSION,
      modelSha256: SHA,
      modelUri: `s3://${BUCKET}/${MODEL_KEY}`,
      modelRecord: RECORD_URI,
      checks: { sha256: { expected: SHA, actual: SHA, passed: true }, baseline: { required: true, key: `monitoring/baselines/${SHA}.json`, passed: true } },
      approval: { decision: 'NOT_REQUIRED', approver: null },
      deployment: { deploymentId: 'd-ABCDEF123', previousVersion: '1', targetVersion: '2', status: 'Succeeded' },
      execution: expect.stringContaining('execution:Promotion:run-1'),
      startedAt: expect.any(String),
    });
    expect(audits[0].body.checks.gates).toEqual([{ metricName: 'validation:accuracy', comparison: 'GREATER_THAN_OR_EQUAL', threshold: 0.9, value: 0.94, passed: true }]);
    expect(r.world.events.map((e) => e.DetailType)).toEqual(['Model Promoted']);
    expect(r.world.events[0]).toMatchObject({ Source: 'cdk-secure-mlops.model-promotion' });
    expect(r.world.events[0].Detail).toMatchObject({ model: MODEL_NAME, modelVersion: VERSION, modelSha256: SHA, outcome: 'promoted', deploymentId: 'd-ABCDEF123', record: `s3://${BUCKET}/${audits[0].key}` });
  });

  test('once the version serves all traffic, the lineage task gets the model as its record names it and the version served before', () => {
    expect(r.calls.RecordLineage).toHaveLength(1);
    const payload = r.calls.RecordLineage[0].Payload;
    expect(payload).toEqual({
      modelVersion: VERSION,
      modelSha256: SHA,
      modelBucket: BUCKET,
      modelKey: MODEL_KEY,
      previousEnvironment: expect.objectContaining({ MODEL_VERSION: `${MODEL_NAME}@1`, MODEL_SHA256: OLD_SHA }),
      promotedAt: '2026-03-02T10:30:00Z',
    });
    // after the rollout succeeded, before the parameter and the audit record
    const order = ['ReadRollout', 'RecordLineage', 'RecordPromotedModel', 'WriteAudit'].map((s) => r.entered.lastIndexOf(s));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  test('the promotion event lands in the curated zone, and the audit record names it', () => {
    const [event, ...more] = r.world.lineageEvents();
    expect(more).toEqual([]);
    expect(event.body).toMatchObject({
      eventType: 'COMPLETE',
      eventTime: '2026-03-02T10:30:00.000Z',
      job: { name: `serverless-model-endpoint.${ENDPOINT_NAME}.promotion` },
      inputs: [{ namespace: `s3://${BUCKET}`, name: MODEL_KEY }],
      outputs: [{ name: `${ENDPOINT_NAME}/${VERSION}` }],
    });
    expect(event.body.outputs[0].outputFacets.cdkSecureMlops_endpointVersion).toMatchObject({ endpoint: ENDPOINT_NAME, modelVersion: VERSION, modelSha256: SHA, previousModelVersion: `${MODEL_NAME}@1` });
    expect(r.world.audits()[0].body.lineage).toEqual({ status: 'WRITTEN', eventKey: event.key });
  });
});

describe('lineage failures do not undo a promotion', () => {
  test('a failing lineage write is retried, then reported in the audit record; the version stays promoted', async () => {
    const world = new World();
    const r = await run('lineage write failing', world, { RecordLineage: () => { throw awsError('SlowDown', 'reduce your request rate'); } });
    expect([r.failed, r.end]).toEqual([false, 'Promoted']);
    expect(r.calls.RecordLineage).toHaveLength(6);
    expect(world.alias).toBe('2');
    expect(r.calls.RestoreModelEnvironment).toHaveLength(0);
    expect(world.parameters.size).toBe(1);
    const [audit] = world.audits();
    expect(audit.body).toMatchObject({ outcome: 'promoted', reason: '', lineage: { status: 'FAILED', error: 'SlowDown' } });
    expect(world.events.map((e) => e.DetailType)).toEqual(['Model Promoted']);
  });

  test('a transient failure is retried with the same event time: one event, written once', async () => {
    const world = new World();
    const real = world.handlers().RecordLineage;
    let calls = 0;
    const r = await run('lineage write retried', world, {
      RecordLineage: async (i) => {
        const out = await real(i);
        if (++calls < 3) throw awsError('Lambda.ServiceException', 'lost answer');
        return out;
      },
    });
    expect([calls, r.end]).toEqual([3, 'Promoted']);
    expect(new Set(r.calls.RecordLineage.map((c) => c.Payload.promotedAt)).size).toBe(1);
    expect(world.lineageEvents()).toHaveLength(1);
    expect(world.audits()[0].body.lineage).toMatchObject({ status: 'WRITTEN' });
  });

  test.each(['LineageInputError', 'AccessDenied'])('an error a retry would meet again (%s) is not retried', async (error) => {
    const world = new World();
    const r = await run(`lineage ${error}`, world, { RecordLineage: () => { throw awsError(error, 'no'); } });
    expect([r.calls.RecordLineage.length, r.end]).toEqual([1, 'Promoted']);
    expect(world.audits()[0].body.lineage).toEqual({ status: 'FAILED', error });
  });
});

describe('rejections before any change to the endpoint', () => {
  const unchanged = (r: Run) => {
    expect(r.calls.UpdateModelEnvironment).toHaveLength(0);
    expect(r.calls.StartRollout).toHaveLength(0);
    expect(r.world.env.MODEL_SHA256).toBe(OLD_SHA);
  };

  test('hash mismatch: the record\'s SHA-256 is not the model object\'s', async () => {
    const r = await run('hash mismatch', new World({ sha: 'c'.repeat(64) }));
    expect([r.failed, r.end]).toEqual([true, 'Rejected']);
    unchanged(r);
    const [audit] = r.world.audits();
    expect(audit.body).toMatchObject({ outcome: 'rejected', reason: 'HASH_MISMATCH', checks: { sha256: { expected: 'c'.repeat(64), actual: SHA, passed: false } } });
    expect(r.world.events.map((e) => e.DetailType)).toEqual(['Model Promotion Rejected']);
    expect(r.calls.RecordLineage).toHaveLength(0);
    expect(audit.body.lineage).toEqual({ status: 'NOT_EMITTED' });
  });

  test('gate failure: a metric below its threshold', async () => {
    const r = await run('gate failure', new World({ accuracy: 0.85 }));
    expect([r.failed, r.end]).toEqual([true, 'Rejected']);
    unchanged(r);
    const [audit] = r.world.audits();
    expect(audit.body).toMatchObject({ outcome: 'rejected', reason: 'GATE_FAILED' });
    expect(audit.body.checks.gates[0]).toMatchObject({ value: 0.85, passed: false });
  });

  test('missing drift baseline', async () => {
    const r = await run('baseline missing', new World({ baseline: false }));
    expect(r.end).toBe('Rejected');
    unchanged(r);
    expect(r.world.audits()[0].body).toMatchObject({ reason: 'BASELINE_MISSING', checks: { baseline: { passed: false } } });
  });
});

describe('approval', () => {
  test('approved: the audit record names the verified approver and the rollout goes on', async () => {
    const r = await run('approval approved', new World(), {}, { approval: true });
    expect(r.end).toBe('Promoted');
    expect(r.calls.WaitForApproval[0]).toMatchObject({ Bucket: BUCKET, Key: `${VERSION_FOLDER}approval-request.json`, Body: { taskToken: 'task-token-1', modelVersion: VERSION, modelSha256: SHA } });
    expect(r.world.events.map((e) => e.DetailType)).toEqual(['Model Approval Requested', 'Model Promoted']);
    expect(r.world.audits()[0].body.approval).toEqual({ decision: 'APPROVED', approver: 'arn:aws:iam::111111111111:role/release-manager', decidedAt: '2026-03-02T11:00:00Z', comment: '' });
  });

  test('rejected by the approver: nothing changes, the audit record names who rejected', async () => {
    const r = await run('approval rejected', new World(), {
      WaitForApproval: () => ({ decision: 'REJECTED', approver: 'arn:aws:sts::111111111111:assumed-role/clinician/alice', decidedAt: '2026-03-02T11:00:00Z', comment: 'bias review pending' }),
    }, { approval: true });
    expect([r.failed, r.end]).toEqual([true, 'Rejected']);
    expect(r.calls.UpdateModelEnvironment).toHaveLength(0);
    expect(r.world.audits()[0].body).toMatchObject({ outcome: 'rejected', reason: 'APPROVAL_REJECTED', approval: { decision: 'REJECTED', approver: 'arn:aws:sts::111111111111:assumed-role/clinician/alice', comment: 'bias review pending' } });
  });

  test('timed out: rejected with APPROVAL_TIMED_OUT', async () => {
    const r = await run('approval timeout', new World(), { WaitForApproval: () => { throw awsError('States.Timeout', 'no decision in time'); } }, { approval: true });
    expect([r.failed, r.end]).toEqual([true, 'Rejected']);
    expect(r.calls.UpdateModelEnvironment).toHaveLength(0);
    expect(r.world.audits()[0].body).toMatchObject({ outcome: 'rejected', reason: 'APPROVAL_TIMED_OUT', approval: { decision: 'TIMED_OUT', approver: null, decidedAt: null, comment: null } });
    expect(r.world.events.map((e) => e.DetailType)).toEqual(['Model Approval Requested', 'Model Promotion Rejected']);
  });

  test('the approval timeout is the task\'s TimeoutSeconds (3 days by default)', () => {
    expect(promotionDefinition(withApproval).States.WaitForApproval).toMatchObject({ TimeoutSeconds: 3 * 24 * 3600, Resource: 'arn:aws:states:::aws-sdk:s3:putObject.waitForTaskToken' });
    expect(promotionDefinition(plain).States.WaitForApproval).toBeUndefined();
  });
});

describe('rollout', () => {
  test.each(['Stopped', 'Failed'])('canary rolled back (%s): audit record rolled-back, "Model Rollout Rolled Back"', async (status) => {
    const world = new World();
    world.rolloutStatuses = ['InProgress', status];
    const r = await run(`canary rollback (${status})`, world);
    expect([r.failed, r.end]).toEqual([true, 'RolledBack']);
    expect(world.alias).toBe('1');
    // $LATEST serves the previous model again; the app is not told to follow the rolled-back one
    expect(r.calls.RestoreModelEnvironment).toHaveLength(1);
    expect(world.env.MODEL_SHA256).toBe(OLD_SHA);
    expect(world.env.MODEL_OBJECT_VERSION).toBe('old-version');
    expect(world.parameters.size).toBe(0);
    expect(world.audits()[0].body).toMatchObject({ outcome: 'rolled-back', reason: status, deployment: { deploymentId: 'd-ABCDEF123', previousVersion: '1', targetVersion: '2', status } });
    expect(world.events.map((e) => e.DetailType)).toEqual(['Model Rollout Rolled Back']);
    expect(r.calls.RecordLineage).toHaveLength(0);
    expect(world.audits()[0].body.lineage).toEqual({ status: 'NOT_EMITTED' });
  });

  test('someone else changed the function during the update: nothing is published, the failure is audited', async () => {
    const world = new World();
    const r = await run('concurrent change', world, {
      ReadUpdateStatus: () => ({ Environment: { Variables: { ...world.env, MODEL_SHA256: 'd'.repeat(64) } }, RevisionId: 'rev-9', LastUpdateStatus: 'Successful' }),
    });
    expect([r.failed, r.end]).toEqual([true, 'PromotionFailed']);
    expect(r.calls.PublishModelVersion).toHaveLength(0);
    expect(world.audits()[0].body).toMatchObject({ outcome: 'failed', reason: 'ConcurrentChange' });
    expect(world.events.map((e) => e.DetailType)).toEqual(['Model Promotion Failed']);
  });

  test('a promotion whose parameter cannot be written is still promoted, and the audit record says so', async () => {
    const world = new World();
    const r = await run('parameter not written', world, { RecordPromotedModel: () => { throw awsError('SSM.ParameterLimitExceeded', 'too many'); } });
    expect([r.failed, r.end]).toEqual([false, 'Promoted']);
    expect(world.audits()[0].body).toMatchObject({ outcome: 'promoted', reason: 'PROMOTED_MODEL_PARAMETER_NOT_WRITTEN' });
  });

  test('a version already live is promoted without a deployment', async () => {
    const world = new World();
    const r = await run('already live', world, { ReadLiveAlias: () => ({ FunctionVersion: '2' }) });
    expect(r.end).toBe('Promoted');
    expect(r.calls.StartRollout).toHaveLength(0);
    expect(world.audits()[0].body).toMatchObject({ outcome: 'promoted', reason: 'ALREADY_LIVE', lineage: { status: 'NOT_EMITTED' } });
    expect(r.calls.RecordLineage).toHaveLength(0);
  });
});

describe('idempotence and input', () => {
  test('a second "Model Trained" for the same version does not promote twice', async () => {
    const world = new World();
    const first = await run('idempotence: first', world);
    expect(first.end).toBe('Promoted');
    const second = await run('idempotence: second event', world, {}, { executionId: 'arn:aws:states:eu-central-1:111111111111:execution:Promotion:run-2' });
    expect([second.failed, second.end]).toEqual([false, 'AlreadyClaimed']);
    expect(second.calls.UpdateModelEnvironment).toHaveLength(0);
    expect(second.calls.WriteAudit).toHaveLength(0);
    expect(world.audits()).toHaveLength(1);
    expect(world.versions).toHaveLength(2);
  });

  test('a retried check of the same execution finds its own claim and goes on', async () => {
    const world = new World();
    const real = world.handlers().CheckCandidate;
    let calls = 0;
    const r = await run('retried check', world, {
      CheckCandidate: async (i) => {
        const out = await real(i);
        if (++calls === 1) throw awsError('Lambda.ServiceException', 'lost answer');
        return out;
      },
    });
    expect(calls).toBe(2);
    expect(r.end).toBe('Promoted');
  });

  test('an operator retries a version whose promotion failed: the retry takes the claim over and promotes', async () => {
    const world = new World();
    const failed = await run('failed promotion', world, { ReadLiveAlias: () => { throw awsError('Lambda.ResourceNotFoundException', 'no alias'); } });
    expect(failed.end).toBe('PromotionFailed');
    const first = 'arn:aws:states:eu-central-1:111111111111:execution:Promotion:run-1';
    const again = { executionId: 'arn:aws:states:eu-central-1:111111111111:execution:Promotion:retry-1', input: { modelRecord: RECORD_URI, retryOf: first } };
    // while the first execution is still RUNNING, or when it SUCCEEDED, nothing is taken over
    expect((await run('retry of a running execution', world, {}, again)).end).toBe('AlreadyClaimed');
    world.executions.set(first, 'SUCCEEDED');
    expect((await run('retry of a succeeded execution', world, {}, again)).end).toBe('AlreadyClaimed');
    world.executions.set(first, 'FAILED');
    // another state machine's execution, or an execution that does not hold the claim, takes nothing over
    const foreign = { ...again, input: { modelRecord: RECORD_URI, retryOf: 'arn:aws:states:eu-central-1:111111111111:execution:Other:run-1' } };
    expect((await run('retry naming another execution', world, {}, foreign)).end).toBe('AlreadyClaimed');
    const retried = await run('retry of a failed execution', world, {}, again);
    expect(retried.end).toBe('Promoted');
    expect(JSON.parse(world.s3.text(`${VERSION_FOLDER}claim.json`)!).execution).toBe(again.executionId);
    expect(world.audits().map((a) => a.body.outcome).sort()).toEqual(['failed', 'promoted']);
  });

  test('the trigger\'s input cannot ask for a retry: the rule passes the record URI only', () => {
    expect(plain.template.findResources('AWS::Events::Rule')).toBeDefined();
    const rule = Object.values(plain.template.findResources('AWS::Events::Rule'))[0] as any;
    expect(rule.Properties.Targets[0].InputTransformer.InputTemplate).toBe('{"modelRecord":<detail-modelRecord>}');
  });

  test('an S3 fault inside the check is retried (the version is not left claimed by a failed check); an InvalidCandidate is not', async () => {
    const world = new World();
    const real = world.handlers().CheckCandidate;
    let calls = 0;
    const r = await run('check retried after an S3 fault', world, {
      CheckCandidate: async (i) => {
        const out = await real(i);
        if (++calls < 3) throw awsError('SlowDown', 'reduce your request rate');
        return out;
      },
    });
    expect([calls, r.end]).toEqual([3, 'Promoted']);
    const invalid = await run('invalid candidate not retried', new World(), {}, { input: { modelRecord: 's3://other/x.json' } });
    expect([invalid.calls.CheckCandidate.length, invalid.end]).toEqual([1, 'InputFailed']);
  });

  test.each([
    ['a record of another bucket', { modelRecord: `s3://other-bucket/${RECORD_KEY}` }, 'InvalidCandidate'],
    ['a record of another model', { modelRecord: `s3://${BUCKET}/other-model/records/${JOB}.json` }, 'InvalidCandidate'],
    ['no modelRecord', { detail: {} }, 'InvalidInput'],
  ])('invalid input (%s): nothing claimed or changed, a "Model Promotion Failed" event', async (_, input, error) => {
    const world = new World();
    const r = await run(`invalid input (${error})`, world, {}, { input });
    expect([r.failed, r.end]).toEqual([true, 'InputFailed']);
    expect([...world.s3.objects.keys()].some((k) => k.startsWith('monitoring/promotions/'))).toBe(false);
    expect(world.events).toEqual([expect.objectContaining({ DetailType: 'Model Promotion Failed', Detail: expect.objectContaining({ reason: error }) })]);
  });
});

export type { PartialPromotionProps };
