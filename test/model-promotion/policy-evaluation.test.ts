/**
 * Least privilege of a ModelPromotion's roles, proven with an IAM policy simulator over the
 * synthesized identity, bucket and key policies:
 * - the candidate check reads this model's records and models, the baselines, and reads and writes
 *   the claims of this model's versions; nothing else (no audit records, no other model, no delete);
 * - the state machine reads and updates the endpoint function's configuration, publishes its
 *   versions, reads its live alias, starts and reads deployments of the endpoint's deployment
 *   group only, invokes the check, writes this model's promotion objects and puts events on its
 *   bus; it cannot change the code, move the alias itself, touch another function or group, or
 *   write a model, a record or a baseline;
 * - the approval handler reads approval requests and answers this state machine's tasks only;
 * - the lineage recorder writes under lineage/ of the curated zone (SSE-KMS with the lake key) and
 *   nothing else: no read, no delete, no other prefix or zone; no other role of the promotion may
 *   write lineage;
 * - the endpoint function may read this model's published models, nothing else of the zone;
 * - an approver (grantApprove) may call the approval function through its IAM-authorized URL only.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MODEL_NAME, promotionStack } from './promotion-fixture';
import { ModelPromotion } from '../../src/model-promotion';
import { DataZone } from '../../src/secure-data-lake/data-zone';
import { ACCOUNT, createPolicySimulator, REGION, RequestCheck } from '../support/resolve-template';

const f = promotionStack({ approval: {} }, undefined, (promotion: ModelPromotion, stack: Stack) => {
  promotion.grantApprove(new iam.Role(stack, 'ReleaseManager', { assumedBy: new iam.AccountRootPrincipal() }));
});
const approver = f.stack.node.findChild('ReleaseManager') as iam.Role;
const sim = createPolicySimulator(f.template.toJSON());

const id = (c: any) => f.stack.getLogicalId(c.node.defaultChild);
/** A token (ARN built with Fn::Join) as the simulator resolves it. */
const resolve = (token: string): string => sim.resolved.resolve(f.stack.resolve(token));
const c = (action: string, resource: string, context?: RequestCheck['context']): RequestCheck => ({ action, resource, context });
const { MODELS, CURATED } = DataZone;
const obj = (zone: DataZone, key: string) => `${sim.arnOf(id(f.lake.bucket(zone)))}/${key}`;
const lakeKey = sim.arnOf(id(f.lake.encryptionKey));
const viaS3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };
const sse = { 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': lakeKey };

const JOB = 'hearing-who-grade-0123456789abcdef0123456789abcdef';
const SHA = 'e'.repeat(64);
const FOLDER = 'monitoring/promotions/model=hearing-who-grade%407/';
const OTHER_FOLDER = 'monitoring/promotions/model=other-model%401/';
const roles = {
  check: id(f.promotion.node.findChild('CheckRole')),
  approve: id(f.promotion.node.findChild('ApproveRole')),
  lineage: id(f.promotion.node.findChild('LineageRole')),
  machine: id((f.promotion.stateMachine as any).role),
  endpoint: id(f.endpoint.handler.role as iam.Role),
  approver: id(approver),
};
const endpointFn = sim.arnOf(id(f.endpoint.handler));
const checkFn = sim.arnOf(id(f.promotion.checkFunction));
const approveFn = sim.arnOf(id(f.promotion.approveFunction));
const lineageFn = sim.arnOf(id(f.promotion.lineageFunction));
const EVENT = 'lineage/events/date=2026-03-02/0190a7e2-5b00-7000-8000-000000000001-COMPLETE.json';
const INDEX = `lineage/index/consumed-by/namespace=s3%3A%2F%2Fmodels/name=${MODEL_NAME}%2Fmodels/0190a7e2-5b00-7000-8000-000000000001.json`;
const group = resolve(f.endpoint.deploymentGroup.deploymentGroupArn);
const app = resolve(f.endpoint.deploymentGroup.application.applicationArn);
const config = resolve(f.endpoint.deploymentGroup.deploymentConfig.deploymentConfigArn);
const machine = sim.arnOf(id(f.promotion.stateMachine));
const machineName: string = (f.promotion.stateMachine.node.defaultChild as any).stateMachineName;
const execution = (name: string, machineName_ = machineName) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machineName_}:${name}`;
/**
 * The service reference lists no resource type for states:SendTask*, so the simulator refuses to
 * evaluate them on an ARN; Step Functions authorizes them on the state machine of the task
 * (its AccessDenied names `…:stateMachine:<name>`), which is what grantTaskResponse names.
 */
const task = (action: string, resource: string): RequestCheck => ({ action, resource, evaluateResourceAnyway: true });
const bus = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`;
const show = (outcomes: { action: string; resource: string; decision?: string }[]) => outcomes.map((o) => `${o.action} ${o.resource} → ${o.decision}`);

const CHECKS: Record<keyof typeof roles, { allowed: RequestCheck[]; denied: RequestCheck[] }> = {
  check: {
    allowed: [
      c('s3:GetObject', obj(MODELS, `${MODEL_NAME}/records/${JOB}.json`)),
      c('s3:GetObject', obj(MODELS, `${MODEL_NAME}/models/${JOB}/model.onnx`)),
      c('s3:GetObject', obj(MODELS, `monitoring/baselines/${SHA}.json`)),
      c('s3:GetObject', obj(MODELS, `${FOLDER}claim.json`)),
      c('s3:PutObject', obj(MODELS, `${FOLDER}claim.json`), sse),
      c('kms:Decrypt', lakeKey, viaS3),
      c('kms:GenerateDataKey', lakeKey, viaS3),
      c('states:DescribeExecution', execution('run-1')),
    ],
    denied: [
      c('states:DescribeExecution', execution('run-1', 'AnotherStateMachine')),
      c('states:StopExecution', execution('run-1')),
      c('states:StartExecution', machine),
      c('s3:GetObject', obj(MODELS, `other-model/records/${JOB}.json`)),
      c('s3:GetObject', obj(MODELS, `${MODEL_NAME}/training-jobs/${JOB}/output/model.tar.gz`)),
      c('s3:GetObject', obj(MODELS, `${FOLDER}approval-request.json`)),
      c('s3:GetObject', obj(MODELS, `${OTHER_FOLDER}claim.json`)),
      c('s3:PutObject', obj(MODELS, `${FOLDER}2026-03-02T10:30:00Z-promoted.json`), sse),
      c('s3:PutObject', obj(MODELS, `${MODEL_NAME}/models/${JOB}/model.onnx`), sse),
      c('s3:PutObject', obj(MODELS, `${MODEL_NAME}/records/${JOB}.json`), sse),
      c('s3:PutObject', obj(MODELS, `monitoring/baselines/${SHA}.json`), sse),
      c('s3:DeleteObject', obj(MODELS, `${FOLDER}claim.json`)),
      c('s3:ListBucket', sim.arnOf(id(f.lake.bucket(MODELS)))),
      c('s3:GetObject', obj(CURATED, 'hearing/datasets/v1/train.manifest')),
      c('lambda:UpdateFunctionConfiguration', endpointFn),
      task('states:SendTaskSuccess', machine),
      c('s3:PutObject', obj(CURATED, EVENT), sse),
    ],
  },
  lineage: {
    allowed: [
      c('s3:PutObject', obj(CURATED, EVENT), sse),
      c('s3:PutObject', obj(CURATED, INDEX), sse),
      c('kms:GenerateDataKey', lakeKey, viaS3),
    ],
    denied: [
      c('s3:GetObject', obj(CURATED, EVENT)),
      c('s3:DeleteObject', obj(CURATED, EVENT)),
      c('s3:ListBucket', sim.arnOf(id(f.lake.bucket(CURATED)))),
      c('s3:PutObject', obj(CURATED, 'hearing/datasets/v1/train.manifest'), sse),
      c('s3:PutObject', obj(MODELS, 'lineage/events/date=2026-03-02/x-COMPLETE.json'), sse),
      c('s3:PutObject', obj(MODELS, `${FOLDER}2026-03-02T10:30:00Z-promoted.json`), sse),
      c('s3:GetObject', obj(MODELS, `${MODEL_NAME}/models/${JOB}/model.onnx`)),
      c('lambda:UpdateFunctionConfiguration', endpointFn),
      c('states:StartExecution', machine),
    ],
  },
  machine: {
    allowed: [
      c('lambda:InvokeFunction', checkFn),
      c('lambda:InvokeFunction', lineageFn),
      c('lambda:GetFunctionConfiguration', endpointFn),
      c('lambda:UpdateFunctionConfiguration', endpointFn),
      c('lambda:PublishVersion', endpointFn),
      c('lambda:GetAlias', `${endpointFn}:live`),
      c('codedeploy:CreateDeployment', group),
      c('codedeploy:GetDeployment', group),
      c('codedeploy:GetDeploymentConfig', config),
      c('codedeploy:RegisterApplicationRevision', app),
      c('codedeploy:GetApplicationRevision', app),
      c('s3:PutObject', obj(MODELS, `${FOLDER}2026-03-02T10:30:00Z-promoted.json`), sse),
      c('s3:PutObject', obj(MODELS, `${FOLDER}approval-request.json`), sse),
      c('kms:GenerateDataKey', lakeKey, viaS3),
      c('events:PutEvents', bus),
      c('ssm:PutParameter', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cdk-secure-mlops/model-promotion/hearing-who-grade/promoted-model`),
    ],
    denied: [
      // the function: configuration and versions only; never its code, its alias (CodeDeploy moves it), or another function
      c('lambda:UpdateFunctionCode', endpointFn),
      c('lambda:UpdateAlias', `${endpointFn}:live`),
      c('lambda:DeleteFunction', endpointFn),
      c('lambda:AddPermission', endpointFn),
      c('lambda:UpdateFunctionConfiguration', checkFn),
      c('lambda:UpdateFunctionConfiguration', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:another`),
      c('lambda:PublishVersion', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:another`),
      c('lambda:InvokeFunction', endpointFn),
      // other deployment groups, applications
      c('codedeploy:CreateDeployment', `arn:aws:codedeploy:${REGION}:${ACCOUNT}:deploymentgroup:another-app/another-group`),
      c('codedeploy:StopDeployment', '*'),
      c('codedeploy:UpdateDeploymentGroup', group),
      // the lake: only this model's promotion objects
      c('s3:PutObject', obj(MODELS, `${OTHER_FOLDER}2026-03-02T10:30:00Z-promoted.json`), sse),
      c('s3:PutObject', obj(MODELS, `${MODEL_NAME}/models/${JOB}/model.onnx`), sse),
      c('s3:PutObject', obj(MODELS, `${MODEL_NAME}/records/${JOB}.json`), sse),
      c('s3:PutObject', obj(MODELS, `monitoring/baselines/${SHA}.json`), sse),
      c('s3:GetObject', obj(MODELS, `${MODEL_NAME}/models/${JOB}/model.onnx`)),
      c('s3:DeleteObject', obj(MODELS, `${FOLDER}claim.json`)),
      c('s3:PutObject', obj(CURATED, EVENT), sse),
      c('lambda:UpdateFunctionConfiguration', lineageFn),
      c('events:PutEvents', `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/another-bus`),
      c('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/anything`),
      c('ssm:PutParameter', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cdk-secure-mlops/model-promotion/other-model/promoted-model`),
      c('ssm:DeleteParameter', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cdk-secure-mlops/model-promotion/hearing-who-grade/promoted-model`),
    ],
  },
  approve: {
    allowed: [
      c('s3:GetObject', obj(MODELS, `${FOLDER}approval-request.json`)),
      c('kms:Decrypt', lakeKey, viaS3),
      task('states:SendTaskSuccess', machine),
      task('states:SendTaskFailure', machine),
    ],
    denied: [
      c('s3:GetObject', obj(MODELS, `${FOLDER}claim.json`)),
      c('s3:GetObject', obj(MODELS, `${OTHER_FOLDER}approval-request.json`)),
      c('s3:GetObject', obj(MODELS, `${MODEL_NAME}/models/${JOB}/model.onnx`)),
      c('s3:PutObject', obj(MODELS, `${FOLDER}2026-03-02T10:30:00Z-promoted.json`), sse),
      task('states:SendTaskSuccess', `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:another`),
      c('states:StartExecution', machine),
      c('lambda:UpdateFunctionConfiguration', endpointFn),
      c('s3:PutObject', obj(CURATED, EVENT), sse),
    ],
  },
  endpoint: {
    allowed: [
      c('s3:GetObject', obj(MODELS, `${MODEL_NAME}/models/${JOB}/model.onnx`)),
      c('kms:Decrypt', lakeKey, viaS3),
    ],
    denied: [
      c('s3:GetObject', obj(MODELS, `other-model/models/${JOB}/model.onnx`)),
      c('s3:GetObject', obj(MODELS, `${MODEL_NAME}/records/${JOB}.json`)),
      c('s3:GetObject', obj(MODELS, `${FOLDER}approval-request.json`)),
      c('s3:PutObject', obj(MODELS, `${MODEL_NAME}/models/${JOB}/model.onnx`), sse),
      c('s3:PutObject', obj(CURATED, EVENT), sse),
    ],
  },
  approver: {
    allowed: [
      c('lambda:InvokeFunctionUrl', approveFn, { 'lambda:FunctionUrlAuthType': 'AWS_IAM' }),
      c('lambda:InvokeFunction', approveFn, { 'lambda:InvokedViaFunctionUrl': 'true' }),
    ],
    denied: [
      // a direct invocation could forge the caller identity in the event
      c('lambda:InvokeFunction', approveFn, { 'lambda:InvokedViaFunctionUrl': 'false' }),
      c('lambda:InvokeFunction', approveFn),
      c('lambda:InvokeFunction', checkFn, { 'lambda:InvokedViaFunctionUrl': 'true' }),
      task('states:SendTaskSuccess', machine),
      c('s3:GetObject', obj(MODELS, `${FOLDER}approval-request.json`)),
    ],
  },
};

const INVENTORY: Record<keyof typeof roles, string[]> = {
  check: ['kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:ListMultipartUploadParts', 's3:PutObject', 'states:DescribeExecution', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
  machine: [
    'codedeploy:CreateDeployment', 'codedeploy:GetApplicationRevision', 'codedeploy:GetDeployment', 'codedeploy:GetDeploymentConfig', 'codedeploy:RegisterApplicationRevision',
    'events:PutEvents', 'kms:Decrypt', 'kms:GenerateDataKey',
    'lambda:GetAlias', 'lambda:GetFunctionConfiguration', 'lambda:InvokeFunction', 'lambda:PublishVersion', 'lambda:UpdateFunctionConfiguration',
    'logs:CreateLogDelivery', 'logs:DeleteLogDelivery', 'logs:DescribeLogGroups', 'logs:DescribeResourcePolicies', 'logs:GetLogDelivery',
    'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:UpdateLogDelivery',
    's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject', 'ssm:PutParameter',
    'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
  ],
  approve: [
    'kms:Decrypt', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:GetObjectVersion',
    'states:SendTaskFailure', 'states:SendTaskHeartbeat', 'states:SendTaskSuccess', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
  ],
  lineage: ['kms:Decrypt', 'kms:GenerateDataKey', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObject', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
  endpoint: ['kms:Decrypt', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:GetObjectVersion', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
  approver: ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl'],
};

describe.each(Object.keys(roles) as Array<keyof typeof roles>)('%s role', (role) => {
  test('is allowed what its step does', async () => {
    expect(show(await sim.mismatches(roles[role], 'Allowed', CHECKS[role].allowed))).toEqual([]);
  });
  test('is denied the neighbours', async () => {
    expect(show(await sim.mismatches(roles[role], 'Denied', CHECKS[role].denied))).toEqual([]);
  });
  test('its policies allow no action beyond the reviewed inventory', () => {
    expect(sim.allowedActionsOf(roles[role])).toEqual(INVENTORY[role]);
  });
});
