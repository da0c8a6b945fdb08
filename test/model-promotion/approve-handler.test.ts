/**
 * The approval handler: only a request that came through the IAM-authorized function URL (it
 * carries the caller Lambda verified) decides, the decision and that caller go to the waiting
 * task, and anything else is refused with a clear status and nothing sent.
 */
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { FakeS3 } from './fake-s3';
import { PROMOTION_KEYS } from '../../src/contract/promotion';
import { createApproveHandler, FunctionUrlEvent } from '../../src/model-promotion/runtime/approve';

const BUCKET = 'models';
const APPROVER = 'arn:aws:sts::111111111111:assumed-role/release-manager/alice';

function setup(options: { sendError?: string; pending?: boolean } = {}) {
  const s3 = new FakeS3();
  if (options.pending ?? true) s3.put(PROMOTION_KEYS.approvalRequest('hearing-who-grade@7'), JSON.stringify({ taskToken: 'token-7', modelVersion: 'hearing-who-grade@7' }));
  const sent: any[] = [];
  const sfn = {
    send: async (command: unknown) => {
      if (!(command instanceof SendTaskSuccessCommand)) throw new Error('unexpected command');
      if (options.sendError) throw Object.assign(new Error('no'), { name: options.sendError });
      sent.push(command.input);
      return {};
    },
  } as unknown as SFNClient;
  const handler = createApproveHandler({ s3: s3.client(), sfn, env: { modelsBucket: BUCKET, modelName: 'hearing-who-grade' }, now: () => Date.parse('2026-03-02T11:00:00Z'), log: () => undefined });
  return { handler, sent };
}

const signed = (body: unknown, userArn: string | null = APPROVER): FunctionUrlEvent => ({
  body: typeof body === 'string' ? body : JSON.stringify(body),
  requestContext: { http: { method: 'POST' }, ...(userArn ? { authorizer: { iam: { userArn, accountId: '111111111111' } } } : {}) },
});

test('a signed approval completes the task with the decision and the verified caller', async () => {
  const { handler, sent } = setup();
  const r = await handler(signed({ modelVersion: 'hearing-who-grade@7', decision: 'APPROVED', comment: 'reviewed the gates' }));
  expect(r.statusCode).toBe(200);
  expect(sent).toEqual([{ taskToken: 'token-7', output: JSON.stringify({ decision: 'APPROVED', approver: APPROVER, decidedAt: '2026-03-02T11:00:00.000Z', comment: 'reviewed the gates' }) }]);
});

test('the approver cannot name someone else: an approver field in the body is ignored', async () => {
  const { handler, sent } = setup();
  await handler(signed({ modelVersion: 'hearing-who-grade@7', decision: 'REJECTED', approver: 'arn:aws:iam::111111111111:user/boss' }));
  expect(JSON.parse(sent[0].output)).toMatchObject({ decision: 'REJECTED', approver: APPROVER, comment: '' });
});

test.each([
  ['no verified caller (a direct invocation)', signed({ modelVersion: 'hearing-who-grade@7', decision: 'APPROVED' }, null), 403],
  ['not JSON', signed('{'), 400],
  ['another model\'s version', signed({ modelVersion: 'other@7', decision: 'APPROVED' }), 400],
  ['a version with a path in it', signed({ modelVersion: 'hearing-who-grade@7/../../x', decision: 'APPROVED' }), 400],
  ['an unknown decision', signed({ modelVersion: 'hearing-who-grade@7', decision: 'MAYBE' }), 400],
  ['a comment with control characters', signed({ modelVersion: 'hearing-who-grade@7', decision: 'APPROVED', comment: 'a\nb' }), 400],
  ['a body over 4 KiB', signed({ modelVersion: 'hearing-who-grade@7', decision: 'APPROVED', comment: 'x'.repeat(5000) }), 413],
  ['no approval requested for the version', signed({ modelVersion: 'hearing-who-grade@8', decision: 'APPROVED' }), 404],
])('%s: refused, nothing sent', async (_, event, status) => {
  const { handler, sent } = setup();
  expect((await handler(event as FunctionUrlEvent)).statusCode).toBe(status);
  expect(sent).toEqual([]);
});

test.each(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'])('a task no longer waiting (%s) is a 409', async (error) => {
  const { handler } = setup({ sendError: error });
  expect((await handler(signed({ modelVersion: 'hearing-who-grade@7', decision: 'APPROVED' }))).statusCode).toBe(409);
});

test('any other Step Functions error is thrown (a 5xx, retried by the caller)', async () => {
  const { handler } = setup({ sendError: 'ThrottlingException' });
  await expect(handler(signed({ modelVersion: 'hearing-who-grade@7', decision: 'APPROVED' }))).rejects.toMatchObject({ name: 'ThrottlingException' });
});
