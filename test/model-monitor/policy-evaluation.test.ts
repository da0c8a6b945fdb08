import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DataZone, SecureDataLake } from '../../src';
import { MONITOR_DETAIL_TYPE, MONITOR_EVENT_SOURCE, MONITORING_KEYS } from '../../src/contract/monitoring';
import { ModelMonitor } from '../../src/model-monitor';
import { ACCOUNT, createPolicySimulator, PolicySimulator, REGION, RequestCheck } from '../support/resolve-template';

/**
 * Least privilege of the ModelMonitor's drift job, proven with an IAM policy simulator over the
 * synthesized identity, bucket and key policies: it reads the captures and ground truth of ITS
 * endpoint and the baselines, lists only those folders, writes reports under its own prefix and
 * puts its one event; nothing else (another endpoint's captures, writing captures or ground truth,
 * the other zones, deletes, other buses and events).
 */

interface Built {
  readonly stack: Stack;
  readonly lake: SecureDataLake;
  readonly monitor: ModelMonitor;
}

function build(mutate: (b: Built) => void = () => undefined): Built & { sim: PolicySimulator } {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: REGION } });
  const lake = new SecureDataLake(stack, 'Lake');
  const monitor = new ModelMonitor(stack, 'Monitor', { lake, captureName: 'hearing-who' });
  mutate({ stack, lake, monitor });
  return { stack, lake, monitor, sim: createPolicySimulator(Template.fromStack(stack).toJSON()) };
}

function subjects(b: Built & { sim: PolicySimulator }) {
  const { stack, lake, monitor, sim } = b;
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as any);
  const lakeKey = sim.arnOf(id(lake.encryptionKey));
  const bucket = (zone: DataZone) => sim.arnOf(id(lake.bucket(zone)));
  return {
    role: id((monitor.driftJob as lambda.Function).role as iam.Role),
    obj: (zone: DataZone, key: string) => `${bucket(zone)}/${key}`,
    models: bucket(DataZone.MODELS),
    lakeKey,
    bus: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`,
    otherBus: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/another-bus`,
    sse: { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': lakeKey },
  };
}

const viaS3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };
const { CLEAN, CURATED, MODELS, RAW, QUARANTINE } = DataZone;
const E = 'hearing-who';
const HOUR = new Date('2026-03-01T10:00:00Z');
const c = (action: string, resource: string, context?: RequestCheck['context']): RequestCheck => ({ action, resource, context });

function expectations(s: ReturnType<typeof subjects>) {
  const capture = s.obj(MODELS, MONITORING_KEYS.captureObject(E, 'hearing-who@1', HOUR, 'a'));
  const otherCapture = s.obj(MODELS, MONITORING_KEYS.captureObject('another-endpoint', 'm@1', HOUR, 'a'));
  const groundTruth = s.obj(MODELS, MONITORING_KEYS.groundTruthObject(E, HOUR, 'g'));
  const otherGroundTruth = s.obj(MODELS, MONITORING_KEYS.groundTruthObject('another-endpoint', HOUR, 'g'));
  const baseline = s.obj(MODELS, MONITORING_KEYS.baseline('ab'.repeat(32)));
  const report = s.obj(MODELS, `${MONITORING_KEYS.reportFolder(E, HOUR)}drift-report.json`);
  const otherReport = s.obj(MODELS, `${MONITORING_KEYS.reportFolder('another-endpoint', HOUR)}drift-report.json`);
  const list = (prefix: string) => c('s3:ListBucket', s.models, { 's3:prefix': prefix });
  const put = (detailType: string[], source: string[] = [MONITOR_EVENT_SOURCE], bus = s.bus) =>
    c('events:PutEvents', bus, { 'events:source': source, 'events:detail-type': detailType });
  return {
    allowed: [
      c('s3:GetObject', capture), c('s3:GetObject', groundTruth), c('s3:GetObject', baseline),
      list(MONITORING_KEYS.capturesPrefix(E)), list(`${MONITORING_KEYS.capturesPrefix(E)}model=hearing-who%401/date=2026-03-01/hour=10/`),
      list(`${MONITORING_KEYS.groundTruthPrefix(E)}date=2026-03-01/`), list(MONITORING_KEYS.baseline('ab'.repeat(32))),
      c('s3:PutObject', report, s.sse),
      c('kms:Decrypt', s.lakeKey, viaS3), c('kms:GenerateDataKey', s.lakeKey, viaS3),
      put([MONITOR_DETAIL_TYPE.modelDriftDetected]),
    ],
    denied: [
      // Another endpoint's data, and the whole bucket.
      c('s3:GetObject', otherCapture), c('s3:GetObject', otherGroundTruth), c('s3:GetObject', otherReport),
      list(MONITORING_KEYS.capturesPrefix('another-endpoint')), list(MONITORING_KEYS.capturesRoot), list(''), list('hearing-who/'),
      c('s3:ListBucket', s.models),
      // No writes besides its reports: not captures, ground truth, baselines, another endpoint's reports.
      c('s3:PutObject', capture, s.sse), c('s3:PutObject', groundTruth, s.sse), c('s3:PutObject', baseline, s.sse), c('s3:PutObject', otherReport, s.sse),
      c('s3:PutObject', s.obj(MODELS, 'hearing-who-grade/models/x/model.onnx'), s.sse),
      c('s3:PutObject', report, { ...s.sse, 's3:x-amz-server-side-encryption-aws-kms-key-id': `arn:aws:kms:${REGION}:${ACCOUNT}:key/foreign` }),
      // Reports are written, never read back; models and records are not the job's.
      c('s3:GetObject', report), c('s3:GetObject', s.obj(MODELS, 'hearing-who-grade/records/x.json')),
      // The other zones.
      c('s3:GetObject', s.obj(RAW, 'uploads/x.json')), c('s3:GetObject', s.obj(CLEAN, 'hearing/records/x.json')),
      c('s3:GetObject', s.obj(CURATED, 'hearing/datasets/v1/train.jsonl')), c('s3:GetObject', s.obj(QUARANTINE, 'x')),
      // Deletes.
      c('s3:DeleteObject', capture), c('s3:DeleteObject', report), c('s3:DeleteObjectVersion', capture), c('kms:ScheduleKeyDeletion', s.lakeKey),
      // The key outside S3.
      c('kms:Decrypt', s.lakeKey),
      // Other events, sources and buses.
      put(['Model Trained']), put([MONITOR_DETAIL_TYPE.modelDriftDetected, 'Dataset Version Published']),
      put([MONITOR_DETAIL_TYPE.modelDriftDetected], ['cdk-secure-mlops.gpu-training-job']), c('events:PutEvents', s.bus),
      put([MONITOR_DETAIL_TYPE.modelDriftDetected], [MONITOR_EVENT_SOURCE], s.otherBus),
    ],
  };
}

const show = (outcomes: { action: string; resource: string; decision?: string; context?: unknown }[]) =>
  outcomes.map((o) => `${o.action} ${o.resource} ${JSON.stringify(o.context ?? {})} → ${o.decision}`);

const built = build();
const s = subjects(built);
const expected = expectations(s);

describe('drift job role', () => {
  test('is allowed every call the job makes', async () => {
    expect(show(await built.sim.mismatches(s.role, 'Allowed', expected.allowed))).toEqual([]);
  });

  test('is denied the neighbours: another endpoint, writes besides reports, other zones, deletes, other events and buses', async () => {
    expect(show(await built.sim.mismatches(s.role, 'Denied', expected.denied))).toEqual([]);
  });

  test('its policies allow no action beyond the reviewed inventory', () => {
    // Beyond the job's calls: GetObjectVersion (the lake's read grant, same prefixes), the
    // multipart actions of the lake's write grant (same prefix), SendMessage and the monitor key
    // for the dead-letter queue, logs and X-Ray.
    expect(built.sim.allowedActionsOf(s.role)).toEqual([
      'events:PutEvents', 'kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents',
      's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 's3:ListMultipartUploadParts', 's3:PutObject',
      'sqs:SendMessage', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
    ]);
  });
});

test('the checks can fail: injected over-grants flip denied checks', async () => {
  const variant = build(({ lake, monitor }) => {
    lake.grantRead(monitor.driftJob, DataZone.MODELS, `${MONITORING_KEYS.capturesRoot}*`); // every endpoint's captures
    lake.grantWrite(monitor.driftJob, DataZone.MODELS, `${MONITORING_KEYS.groundTruthPrefix(E)}*`); // forging ground truth
  });
  const v = subjects(variant);
  const flipped = (await variant.sim.mismatches(v.role, 'Denied', expectations(v).denied)).map((o) => `${o.action} ${o.resource.replace(/^.*?:::[^/]*\//, '')}`);
  expect(flipped).toEqual(expect.arrayContaining([
    `s3:GetObject ${MONITORING_KEYS.captureObject('another-endpoint', 'm@1', HOUR, 'a')}`,
    `s3:PutObject ${MONITORING_KEYS.groundTruthObject(E, HOUR, 'g')}`,
  ]));
});
