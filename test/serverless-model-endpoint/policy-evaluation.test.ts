import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { DataZone, ModelArtifact, SecureDataLake, ServerlessModelEndpoint } from '../../src';
import { ACCOUNT, createPolicySimulator, REGION, RequestCheck } from '../support/resolve-template';

/**
 * Least privilege of the capture writer's role, proven with an IAM policy simulator over the
 * synthesized identity, bucket and key policies: it puts captures under its own endpoint's capture
 * prefix of the models zone with SSE-KMS under the lake's key, sends failed payloads to its
 * dead-letter queue, and logs; it cannot read captures (its own included), write elsewhere, delete,
 * or use a key outside S3 (the lake's) or SQS (the logs key).
 */
const MODEL_DIR = path.join(__dirname, '..', 'fixtures', 'models');
const META = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));

function build(extend?: (endpoint: ServerlessModelEndpoint, lake: SecureDataLake) => void) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: REGION } });
  const lake = new SecureDataLake(stack, 'Lake');
  const endpoint = new ServerlessModelEndpoint(stack, 'Predict', {
    model: ModelArtifact.fromAsset(path.join(MODEL_DIR, META.file), { version: META.version, classNames: META.classNames }),
    capture: { lake, captureName: 'hearing' },
  });
  extend?.(endpoint, lake);
  const sim = createPolicySimulator(Template.fromStack(stack).toJSON());
  const id = (c: any) => stack.getLogicalId((c.node.defaultChild ?? c) as any);
  const models = sim.arnOf(id(lake.modelsBucket));
  const lakeKey = sim.arnOf(id(lake.encryptionKey));
  return {
    sim,
    role: id(endpoint.captureWriter!.role as iam.Role),
    obj: (zone: DataZone, key: string) => `${sim.arnOf(id(lake.bucket(zone)))}/${key}`,
    models,
    lakeKey,
    logsKey: sim.arnOf(id(endpoint.logsKey)),
    hmacKey: sim.arnOf(id(lake.pseudonymizationKey!)),
    queue: sim.arnOf(id(endpoint.node.findChild('CaptureDeadLetterQueue'))),
    writerLogs: sim.arnOf(id(endpoint.node.findChild('CaptureWriterLogs'))),
    endpointLogs: sim.arnOf(id(endpoint.node.findChild('HandlerLogs'))),
    sse: { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': lakeKey },
  };
}

const c = (action: string, resource: string, context?: RequestCheck['context']): RequestCheck => ({ action, resource, context });
const viaS3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };
const viaSqs = { 'kms:ViaService': `sqs.${REGION}.amazonaws.com` };
const { CLEAN, CURATED, MODELS, RAW } = DataZone;
const CAPTURE = 'monitoring/captures/endpoint=hearing/model=hearing-who-grade%401/date=2026-03-01/hour=13/0123456789abcdef0123456789abcdef.jsonl';

type B = ReturnType<typeof build>;
function checks(b: B) {
  return {
    allowed: [
      c('s3:PutObject', b.obj(MODELS, CAPTURE), b.sse),
      c('kms:GenerateDataKey', b.lakeKey, viaS3),
      c('sqs:SendMessage', b.queue),
      c('kms:GenerateDataKey', b.logsKey, viaSqs), c('kms:Decrypt', b.logsKey, viaSqs),
      c('logs:PutLogEvents', `${b.writerLogs.replace(/:\*$/, '')}:log-stream:2026/03/01/x`),
    ],
    denied: [
      // never reads captures, its own or another endpoint's, nor lists them
      c('s3:GetObject', b.obj(MODELS, CAPTURE)), c('s3:GetObjectVersion', b.obj(MODELS, CAPTURE)),
      c('s3:ListBucket', b.models, { 's3:prefix': 'monitoring/captures/' }),
      // writes nowhere else: another endpoint, other monitoring data, model artifacts, other zones
      c('s3:PutObject', b.obj(MODELS, 'monitoring/captures/endpoint=other/model=m/date=2026-03-01/hour=13/x.jsonl'), b.sse),
      c('s3:PutObject', b.obj(MODELS, 'monitoring/captures/endpoint=hearing2/x.jsonl'), b.sse),
      c('s3:PutObject', b.obj(MODELS, 'monitoring/baselines/abc.json'), b.sse),
      c('s3:PutObject', b.obj(MODELS, 'monitoring/ground-truth/endpoint=hearing/x.jsonl'), b.sse),
      c('s3:PutObject', b.obj(MODELS, 'hearing-who-grade/models/job/model.onnx'), b.sse),
      c('s3:PutObject', b.obj(CURATED, CAPTURE), b.sse), c('s3:PutObject', b.obj(CLEAN, CAPTURE), b.sse), c('s3:PutObject', b.obj(RAW, CAPTURE), b.sse),
      // no other encryption than the lake key
      c('s3:PutObject', b.obj(MODELS, CAPTURE), { 's3:x-amz-server-side-encryption': 'AES256' }),
      c('s3:PutObject', b.obj(MODELS, CAPTURE), { ...b.sse, 's3:x-amz-server-side-encryption-aws-kms-key-id': b.logsKey }),
      // no delete
      c('s3:DeleteObject', b.obj(MODELS, CAPTURE)), c('s3:DeleteObjectVersion', b.obj(MODELS, CAPTURE)),
      // keys only through their services
      c('kms:Decrypt', b.lakeKey), c('kms:GenerateDataKey', b.lakeKey), c('kms:Decrypt', b.logsKey), c('kms:Decrypt', b.logsKey, viaS3),
      c('kms:GenerateMac', b.hmacKey),
      // the endpoint's log group (which also holds the captures) is not its to read
      c('logs:GetLogEvents', `${b.endpointLogs.replace(/:\*$/, '')}:log-stream:x`), c('logs:FilterLogEvents', b.endpointLogs),
      c('sqs:ReceiveMessage', b.queue), c('sqs:DeleteMessage', b.queue),
    ],
  };
}

const INVENTORY = [
  'kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents',
  's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject', 'sqs:SendMessage',
  'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
];

const show = (outcomes: { action: string; resource: string; decision?: string }[]) => outcomes.map((o) => `${o.action} ${o.resource} → ${o.decision}`);
const built = build();

describe('capture writer role', () => {
  const { allowed, denied } = checks(built);
  test('is allowed to put its captures with SSE-KMS under the lake key, dead-letter a payload and log', async () => {
    expect(show(await built.sim.mismatches(built.role, 'Allowed', allowed))).toEqual([]);
  });
  test('is denied reading captures, writing elsewhere, deleting, and the keys outside their services', async () => {
    expect(show(await built.sim.mismatches(built.role, 'Denied', denied))).toEqual([]);
  });
  test('its policies allow no action beyond the reviewed inventory', () => {
    expect(built.sim.allowedActionsOf(built.role)).toEqual(INVENTORY);
  });
});

test('the checks can fail: injected over-grants flip denied checks to allowed', async () => {
  const variant = build((endpoint, lake) => {
    lake.grantRead(endpoint.captureWriter!, DataZone.MODELS, 'monitoring/captures/*');
    lake.grantWrite(endpoint.captureWriter!, DataZone.CURATED);
  });
  const flipped = (await variant.sim.mismatches(variant.role, 'Denied', checks(variant).denied)).map((o) => `${o.action} ${o.resource.replace(/^arn:aws:s3:::/, '')}`);
  expect(flipped).toEqual(expect.arrayContaining([
    expect.stringMatching(/^s3:GetObject .*models.*\/monitoring\/captures\/endpoint=hearing\//),
    expect.stringMatching(/^s3:PutObject .*curated/),
  ]));
});
