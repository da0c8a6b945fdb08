import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { hearingPipelineProps } from './pipeline-fixture';
import { DataZone, LabelingPipeline, SecureDataLake } from '../../src';
import { DETAIL_TYPE, EVENT_SOURCE } from '../../src/labeling-pipeline/runtime/contract';
import { ACCOUNT, createPolicySimulator, PolicySimulator, REGION, RequestCheck } from '../support/resolve-template';

/**
 * Least privilege of the LabelingPipeline's handler roles, proven with an IAM policy simulator over
 * the synthesized identity, bucket and key policies (security.md item 5). Each role is allowed the
 * calls its handler makes (read from src/labeling-pipeline/runtime) and denied the neighbours:
 * another zone, another prefix of the same zone, deletes, the HMAC key (only the cleaning handler
 * and the review API, for reviewer pseudonyms, may MAC), another state machine, another table,
 * another bus.
 *
 * Grants the construct owner still has to narrow are listed in KNOWN_OVER_GRANTS with the fix: their
 * test asserts today's decision, so it fails once fixed (move the check to `denied` then).
 */

interface Built {
  readonly stack: Stack;
  readonly lake: SecureDataLake;
  readonly pipeline: LabelingPipeline;
}

function build(mutate: (b: Built) => void = () => undefined): Built & { sim: PolicySimulator } {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: REGION } });
  const lake = new SecureDataLake(stack, 'Lake');
  const pipeline = new LabelingPipeline(stack, 'Hearing', { lake, ...hearingPipelineProps() });
  mutate({ stack, lake, pipeline });
  return { stack, lake, pipeline, sim: createPolicySimulator(Template.fromStack(stack).toJSON()) };
}

const fn = (scope: Construct, ...path: string[]): lambda.Function =>
  path.reduce<IConstruct>((c, id) => c.node.findChild(id), scope) as lambda.Function;

const ROLES = ['clean', 'label', 'reviewRecord', 'reviewApi', 'dataset'] as const;
type RoleName = typeof ROLES[number];

/** The handler roles' logical ids and the ARNs the checks name, for one synthesized pipeline. */
function subjects(b: Built & { sim: PolicySimulator }) {
  const { stack, lake, pipeline, sim } = b;
  const id = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as any);
  const roleId = (f: lambda.IFunction) => id(f.role as iam.Role);
  const roles: Record<RoleName, string> = {
    clean: roleId(pipeline.cleaningFunction),
    label: roleId(pipeline.labelingFunction),
    reviewRecord: roleId(fn(pipeline, 'ReviewRecord')),
    reviewApi: roleId(fn(pipeline, 'ReviewApi', 'Handler')),
    dataset: roleId(fn(pipeline, 'Dataset')),
  };
  const lakeKey = sim.arnOf(id(lake.encryptionKey));
  return {
    roles,
    obj: (zone: DataZone, key: string) => `${sim.arnOf(id(lake.bucket(zone)))}/${key}`,
    lakeKey,
    hmacKey: sim.arnOf(id(lake.pseudonymizationKey!)),
    pipelineKey: sim.arnOf(id(pipeline.encryptionKey)),
    foreignKey: `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-foreign`,
    ledger: sim.arnOf(id(pipeline.ledger)),
    otherTable: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/another-table`,
    reviewMachine: sim.arnOf(id(pipeline.reviewStateMachine)),
    datasetMachine: sim.arnOf(id(pipeline.datasetStateMachine)),
    backfillMachine: sim.arnOf(id(pipeline.backfillStateMachine)),
    cleaningQueue: sim.arnOf(id(pipeline.cleaningQueue)),
    labelingQueue: sim.arnOf(id(pipeline.labelingQueue)),
    bus: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`,
    otherBus: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/another-bus`,
    // The SSE fields every handler PutObject sends (the bucket policy denies other keys).
    sse: { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': lakeKey },
  };
}

const viaS3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };
const viaSqs = { 'kms:ViaService': `sqs.${REGION}.amazonaws.com` };
// DynamoDB decrypts the ledger's table key with the caller's permissions (kms:ViaService dynamodb;
// the plaintext table key is cached per principal for minutes): every role that calls the ledger
// needs kms:Decrypt on the pipeline key. TableV2.grant() adds none (its own docs: "appropriate
// grants to the key needs to be added separately"), hence the construct's grantLedger.
const viaDynamoDb = { 'kms:ViaService': `dynamodb.${REGION}.amazonaws.com` };

type S = ReturnType<typeof subjects>;
const { CLEAN, CURATED, MODELS, QUARANTINE, RAW } = DataZone;

/** What each handler calls (allowed), and its neighbours (denied). */
function expectations(s: S): Record<RoleName, { allowed: RequestCheck[]; denied: RequestCheck[] }> {
  const c = (action: string, resource: string, context?: RequestCheck['context']): RequestCheck => ({ action, resource, context });
  const sendTask = (action: string, resource: string): RequestCheck => ({ action, resource, evaluateResourceAnyway: true });
  const upload = s.obj(RAW, 'uploads/2026/03/01/u.json');
  const record = s.obj(CLEAN, 'hearing/records/sha256-0f.json');
  const quarantineInput = s.obj(QUARANTINE, 'hearing/quarantine/0f0f/input');
  const sidecar = s.obj(QUARANTINE, 'hearing/quarantine/0f0f/reasons.json');
  const label = s.obj(CURATED, 'hearing/labels/sha256-0f/rules-who-grade.json');
  const manifest = s.obj(CURATED, 'hearing/datasets/v1/train.jsonl');
  const s3Data = [c('kms:Decrypt', s.lakeKey, viaS3), c('kms:GenerateDataKey', s.lakeKey, viaS3)];
  // PutEvents is allowed for the pipeline's source and the role's own detail types only.
  // (Multivalued keys: one value per entry of the PutEvents call.)
  const put = (detailType: string | string[], source: string | string[] = EVENT_SOURCE) =>
    c('events:PutEvents', s.bus, { 'events:source': [source].flat(), 'events:detail-type': [detailType].flat() });
  const forged = [
    put(DETAIL_TYPE.datasetVersionPublished), put(DETAIL_TYPE.datasetVersionBlocked),
    put(DETAIL_TYPE.recordCleaned, 'cdk-secure-mlops.gpu-training-job'), put('Model Trained', 'cdk-secure-mlops.gpu-training-job'),
    // A batch with one forged entry among the role's own, and a request without the keys.
    put([DETAIL_TYPE.recordLabelled, DETAIL_TYPE.recordCleaned, DETAIL_TYPE.datasetVersionPublished]),
    c('events:PutEvents', s.bus),
  ];
  const everyDelete = [
    c('s3:DeleteObject', upload), c('s3:DeleteObjectVersion', upload), c('s3:DeleteObject', record),
    c('s3:DeleteObject', sidecar), c('s3:DeleteObject', label), c('s3:DeleteObject', manifest),
    c('dynamodb:DeleteTable', s.ledger), c('kms:ScheduleKeyDeletion', s.lakeKey),
  ];
  const notTheirs = [
    c('dynamodb:GetItem', s.otherTable), c('dynamodb:PutItem', s.otherTable),
    c('events:PutEvents', s.otherBus),
    c('kms:GenerateMac', s.foreignKey), c('kms:Decrypt', s.foreignKey, viaS3),
    c('s3:GetObject', s.obj(MODELS, 'hearing-who-grade/records/x.json')),
    c('s3:PutObject', s.obj(MODELS, 'hearing-who-grade/records/x.json'), s.sse),
  ];
  return {
    clean: {
      allowed: [
        c('s3:GetObject', upload), c('s3:GetObjectVersion', upload), // ranged GET of the event's version; HeadObject for backfill items
        c('s3:PutObject', record, s.sse),
        c('s3:PutObject', quarantineInput, s.sse), c('s3:PutObject', sidecar, s.sse), c('s3:GetObject', sidecar),
        ...s3Data,
        c('kms:GenerateMac', s.hmacKey),
        c('dynamodb:GetItem', s.ledger), c('dynamodb:PutItem', s.ledger), c('dynamodb:UpdateItem', s.ledger),
        c('kms:Decrypt', s.pipelineKey, viaDynamoDb),
        put(DETAIL_TYPE.recordCleaned), put(DETAIL_TYPE.recordQuarantined),
        c('sqs:ReceiveMessage', s.cleaningQueue), c('sqs:DeleteMessage', s.cleaningQueue), c('kms:Decrypt', s.pipelineKey, viaSqs),
      ],
      denied: [
        c('s3:GetObject', s.obj(RAW, 'elsewhere/u.json')), c('s3:PutObject', upload, s.sse), c('s3:ListBucket', s.obj(RAW, '').slice(0, -1)),
        c('s3:PutObject', s.obj(CLEAN, 'hearing/labels/x.json'), s.sse), c('s3:PutObject', s.obj(CLEAN, 'other-pipeline/records/x.json'), s.sse),
        c('s3:GetObject', record),
        c('s3:PutObject', s.obj(QUARANTINE, 'hearing/records/x.json'), s.sse),
        c('s3:PutObject', label, s.sse), c('s3:GetObject', manifest),
        c('s3:PutObject', record, { ...s.sse, 's3:x-amz-server-side-encryption-aws-kms-key-id': s.foreignKey }),
        c('s3:GetObject', upload, { 'aws:SecureTransport': 'false' }),
        c('kms:Decrypt', s.lakeKey), c('kms:Decrypt', s.lakeKey, viaSqs),
        c('kms:Decrypt', s.hmacKey), c('kms:VerifyMac', s.hmacKey),
        c('dynamodb:DeleteItem', s.ledger), c('dynamodb:Scan', s.ledger), c('dynamodb:Query', s.ledger),
        c('states:StartExecution', s.reviewMachine), c('sqs:ReceiveMessage', s.labelingQueue),
        put(DETAIL_TYPE.recordLabelled), put(DETAIL_TYPE.reviewRequested), ...forged,
        ...everyDelete, ...notTheirs,
      ],
    },
    label: {
      allowed: [
        c('s3:GetObject', record),
        c('s3:PutObject', label, s.sse), c('s3:GetObject', label), // If-None-Match put; read back on 412
        ...s3Data,
        c('dynamodb:GetItem', s.ledger), c('dynamodb:UpdateItem', s.ledger),
        c('kms:Decrypt', s.pipelineKey, viaDynamoDb),
        c('states:StartExecution', s.reviewMachine),
        put(DETAIL_TYPE.recordLabelled), put(DETAIL_TYPE.reviewRequested),
        c('sqs:ReceiveMessage', s.labelingQueue), c('sqs:DeleteMessage', s.labelingQueue), c('kms:Decrypt', s.pipelineKey, viaSqs),
      ],
      denied: [
        c('s3:GetObject', upload), c('s3:GetObject', sidecar), c('s3:GetObject', quarantineInput),
        c('s3:PutObject', record, s.sse), c('s3:GetObject', s.obj(CLEAN, 'other-pipeline/records/x.json')),
        c('s3:PutObject', manifest, s.sse), c('s3:GetObject', manifest), c('s3:PutObject', s.obj(CURATED, 'other/labels/x.json'), s.sse),
        c('kms:GenerateMac', s.hmacKey),
        c('dynamodb:PutItem', s.ledger), c('dynamodb:DeleteItem', s.ledger), c('dynamodb:Scan', s.ledger),
        c('states:StartExecution', s.datasetMachine), c('states:StartExecution', s.backfillMachine),
        sendTask('states:SendTaskSuccess', s.reviewMachine),
        c('sqs:ReceiveMessage', s.cleaningQueue),
        put(DETAIL_TYPE.recordCleaned), put(DETAIL_TYPE.recordQuarantined), ...forged,
        ...everyDelete, ...notTheirs,
      ],
    },
    reviewRecord: {
      allowed: [
        c('s3:PutObject', label, s.sse), c('s3:GetObject', label),
        ...s3Data,
        c('dynamodb:PutItem', s.ledger), c('dynamodb:UpdateItem', s.ledger), c('dynamodb:DeleteItem', s.ledger),
        c('kms:Decrypt', s.pipelineKey, viaDynamoDb),
        put(DETAIL_TYPE.recordLabelled),
      ],
      denied: [
        c('s3:GetObject', record), c('s3:GetObject', upload), c('s3:GetObject', sidecar),
        put(DETAIL_TYPE.reviewRequested), put(DETAIL_TYPE.recordCleaned), ...forged,
        c('s3:PutObject', record, s.sse), c('s3:PutObject', manifest, s.sse),
        c('kms:GenerateMac', s.hmacKey),
        c('dynamodb:GetItem', s.ledger), c('dynamodb:Scan', s.ledger), c('dynamodb:Query', s.ledger), // no GetItem: UpdateItem returns ALL_OLD on a failed condition
        c('states:StartExecution', s.reviewMachine), sendTask('states:SendTaskSuccess', s.reviewMachine),
        ...everyDelete, ...notTheirs,
      ],
    },
    reviewApi: {
      allowed: [
        // Pending reviews; the reviewers' answers (a conditional put, a query, a batch read) and
        // request counters (an update).
        c('dynamodb:Query', s.ledger), c('dynamodb:GetItem', s.ledger), c('dynamodb:DeleteItem', s.ledger),
        c('dynamodb:PutItem', s.ledger), c('dynamodb:UpdateItem', s.ledger), c('dynamodb:BatchGetItem', s.ledger),
        c('kms:Decrypt', s.pipelineKey, viaDynamoDb), c('kms:GenerateDataKey', s.pipelineKey, viaDynamoDb),
        // The reviewer's keyed pseudonym.
        c('kms:GenerateMac', s.hmacKey),
        sendTask('states:SendTaskSuccess', s.reviewMachine),
      ],
      denied: [
        c('s3:GetObject', label), c('s3:GetObject', record), c('kms:Decrypt', s.lakeKey, viaS3),
        c('dynamodb:Scan', s.ledger), c('dynamodb:BatchWriteItem', s.ledger),
        sendTask('states:SendTaskSuccess', s.datasetMachine), c('states:StartExecution', s.reviewMachine),
        // The handler answers reviews; it never fails or heartbeats a task.
        sendTask('states:SendTaskFailure', s.reviewMachine), sendTask('states:SendTaskHeartbeat', s.reviewMachine),
        c('events:PutEvents', s.bus), c('kms:VerifyMac', s.hmacKey), c('kms:Decrypt', s.hmacKey),
        ...everyDelete, ...notTheirs,
      ],
    },
    dataset: {
      allowed: [
        c('dynamodb:Scan', s.ledger), c('kms:Decrypt', s.pipelineKey, viaDynamoDb),
        c('s3:GetObject', record),
        c('s3:PutObject', manifest, s.sse), c('s3:PutObject', s.obj(CURATED, 'hearing/datasets/v1/dataset-card.json'), s.sse),
        ...s3Data,
      ],
      denied: [
        c('dynamodb:GetItem', s.ledger), c('dynamodb:PutItem', s.ledger), c('dynamodb:Query', s.ledger), c('dynamodb:DeleteItem', s.ledger),
        c('s3:GetObject', upload), c('s3:GetObject', sidecar), c('s3:GetObject', label),
        c('s3:GetObject', manifest), // versions are written once and never read back
        c('s3:PutObject', label, s.sse), c('s3:PutObject', s.obj(CURATED, 'other/datasets/v1/train.jsonl'), s.sse), c('s3:PutObject', record, s.sse),
        c('events:PutEvents', s.bus), // the dataset state machine puts the events
        c('kms:GenerateMac', s.hmacKey), c('states:StartExecution', s.datasetMachine),
        ...everyDelete, ...notTheirs,
      ],
    },
  };
}

/**
 * Every action each role's identity policies allow. A new grant fails this list until it is
 * reviewed (and, for a handler call, given allowed and denied checks above). Reviewed extras beyond
 * the handler calls: s3:AbortMultipartUpload/ListMultipartUploadParts (the lake's write grant, same
 * prefix), s3:GetObjectVersion (the lake's read grant, same prefix), kms:DescribeKey/Encrypt/
 * GenerateDataKey on the pipeline key (grantLedger, as CDK's own table read/write grants), the SQS
 * event source's queue actions, logs and X-Ray.
 */
const INVENTORY: Record<RoleName, string[]> = {
  clean: [
    'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'events:PutEvents', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateMac',
    'logs:CreateLogStream', 'logs:PutLogEvents', 's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:ListMultipartUploadParts', 's3:PutObject',
    'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
  ],
  label: [
    'dynamodb:GetItem', 'dynamodb:UpdateItem', 'events:PutEvents', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents',
    's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:ListMultipartUploadParts', 's3:PutObject',
    'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'states:StartExecution',
    'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
  ],
  reviewRecord: [
    'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'events:PutEvents', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey',
    'logs:CreateLogStream', 'logs:PutLogEvents', 's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:ListMultipartUploadParts', 's3:PutObject',
    'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
  ],
  reviewApi: [
    'dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem',
    'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateMac', 'logs:CreateLogStream', 'logs:PutLogEvents',
    'states:SendTaskSuccess', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
  ],
  dataset: [
    'dynamodb:Scan', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents',
    's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:ListMultipartUploadParts', 's3:PutObject', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
  ],
};

const show = (outcomes: { action: string; resource: string; decision?: string }[]) => outcomes.map((o) => `${o.action} ${o.resource} → ${o.decision}`);

const built = build();
const s = subjects(built);
const expected = expectations(s);

describe.each(ROLES.map((r) => [r]))('%s handler role', (role) => {
  const roleId = s.roles[role];

  test('is allowed every call its handler makes', async () => {
    expect(show(await built.sim.mismatches(roleId, 'Allowed', expected[role].allowed))).toEqual([]);
  });

  test('is denied the neighbours: other zones and prefixes, deletes, other keys, machines, tables and buses', async () => {
    expect(show(await built.sim.mismatches(roleId, 'Denied', expected[role].denied))).toEqual([]);
  });

  test('its policies allow no action beyond the reviewed inventory', () => {
    expect(built.sim.allowedActionsOf(roleId)).toEqual(INVENTORY[role]);
  });
});

describe('the checks can fail', () => {
  // A variant stack with injected over-grants: each must flip a denied check to allowed.
  const variant = build(({ lake, pipeline }) => {
    lake.grantWrite(pipeline.cleaningFunction, DataZone.CURATED); // another zone
    lake.grantRead(pipeline.labelingFunction, DataZone.RAW); // label reading raw
    lake.grantPseudonymize(fn(pipeline, 'Dataset')); // the HMAC key for a role other than clean
    pipeline.ledger.grant(fn(pipeline, 'ReviewApi', 'Handler'), 'dynamodb:Scan'); // a read of the whole ledger where items were meant
    pipeline.datasetStateMachine.grantStartExecution(pipeline.labelingFunction); // another state machine
    pipeline.ledger.grant(fn(pipeline, 'ReviewRecord'), 'dynamodb:GetItem'); // a read the handler does not make
  });
  const v = subjects(variant);
  const vExpected = expectations(v);

  test('injected grants show up as denied checks that are now allowed', async () => {
    const flipped = async (role: RoleName) =>
      (await variant.sim.mismatches(v.roles[role], 'Denied', vExpected[role].denied)).map((o) => `${role}: ${o.action} ${o.resource.replace(/^arn:aws:s3:::/, '')}`);
    expect(await flipped('clean')).toEqual(expect.arrayContaining([expect.stringMatching(/^clean: s3:PutObject bucket-lakecurated.*\/hearing\/labels\//)]));
    expect(await flipped('label')).toEqual(expect.arrayContaining([expect.stringMatching(/^label: s3:GetObject bucket-lakeraw.*\/uploads\//), expect.stringMatching(/^label: states:StartExecution .*DatasetStateMachine/)]));
    expect(await flipped('dataset')).toEqual([`dataset: kms:GenerateMac ${v.hmacKey}`]);
    expect(await flipped('reviewApi')).toEqual([expect.stringMatching(/^reviewApi: dynamodb:Scan /)]);
    expect(await flipped('reviewRecord')).toEqual([expect.stringMatching(/^reviewRecord: dynamodb:GetItem /)]);
  });
});

test('the dataset state machine\'s role may put the dataset version events only (the events a GpuTrainingJob trains on)', async () => {
  const roleId = built.stack.getLogicalId((built.pipeline.datasetStateMachine as any).role.node.defaultChild);
  const put = (detailTypes: string[], source = EVENT_SOURCE): RequestCheck => ({
    action: 'events:PutEvents', resource: s.bus, context: { 'events:source': [source], 'events:detail-type': detailTypes },
  });
  const published = DETAIL_TYPE.datasetVersionPublished;
  expect(show(await built.sim.mismatches(roleId, 'Allowed', [put([published]), put([DETAIL_TYPE.datasetVersionBlocked])]))).toEqual([]);
  expect(show(await built.sim.mismatches(roleId, 'Denied', [
    put([DETAIL_TYPE.recordCleaned]), put([published, DETAIL_TYPE.recordLabelled]), put([published], 'cdk-secure-mlops.gpu-training-job'),
    { action: 'events:PutEvents', resource: s.bus }, { action: 'events:PutEvents', resource: s.otherBus, context: { 'events:source': [EVENT_SOURCE], 'events:detail-type': [published] } },
  ]))).toEqual([]);
});

describe('state machine roles and their own key', () => {
  // CDK's CustomerManagedEncryptionConfiguration grants the role kms:Decrypt/GenerateDataKey under
  // StringEquals kms:EncryptionContext:aws:states:stateMachineArn = `…:stateMachine:<name>`; without
  // a stateMachineName the name would be empty and the condition would never match (the construct
  // names its state machines for that reason).
  // (The simulator ignores kms:EncryptionContext:* keys, so this is checked on the resolved statement.)
  test.each([
    ['review', () => built.pipeline.reviewStateMachine],
    ['dataset', () => built.pipeline.datasetStateMachine],
    ['backfill', () => built.pipeline.backfillStateMachine],
  ])('%s state machine: the role may use the key for its own state machine\'s encryption context', (_name, machine) => {
    const m = machine() as any;
    const roleId = built.stack.getLogicalId(m.role.node.defaultChild);
    const name: string = m.node.defaultChild.stateMachineName;
    expect(name).toMatch(/^[A-Za-z0-9-]{1,80}$/);
    const contexts = built.sim.identityPoliciesOf(roleId)
      .flatMap((p) => p.policy.Statement)
      .filter((st: any) => st.Resource === s.pipelineKey && [st.Action].flat().includes('kms:Decrypt'))
      .map((st: any) => st.Condition?.StringEquals?.['kms:EncryptionContext:aws:states:stateMachineArn']);
    expect(contexts).toEqual([`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`]);
  });
});
