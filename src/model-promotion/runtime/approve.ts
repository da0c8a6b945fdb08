/**
 * The approval handler of a ModelPromotion (approve.handler.ts is its entry), behind a Lambda
 * function URL with IAM authorization: a signed `POST {"modelVersion": "<model>@<n>", "decision":
 * "APPROVED" | "REJECTED", "comment": "..."}` completes the version's pending approval task with
 * the decision and the caller's identity as Lambda verified it (the IAM principal ARN that signed
 * the request; `requestContext.authorizer.iam`, which only a function URL invocation carries:
 * the construct lets approvers invoke the function through its URL only).
 *
 * The task token is read from the version's approval request in the models zone (written by the
 * state machine's WaitForApproval task); a token that was used already, or whose task timed out,
 * is answered 409. Logs carry the version, the decision and the approver's ARN.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { APPROVE_ENV } from './contract';
import { ApprovalDecision, PROMOTION_KEYS } from '../../contract/promotion';
import { Environment, readEnvironment } from '../../private/runtime/env';
import { errorInfo, isMissing } from '../../private/runtime/sdk-errors';

export interface ApproveEnv {
  readonly modelsBucket: string;
  readonly modelName: string;
}

export function readApproveEnv(env: Environment): ApproveEnv {
  return readEnvironment(env, APPROVE_ENV, ['modelsBucket', 'modelName'], 'ModelPromotion');
}

/** The part of a function URL event (payload 2.0) the handler reads. */
export interface FunctionUrlEvent {
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: {
    readonly http?: { readonly method?: string };
    readonly authorizer?: { readonly iam?: { readonly userArn?: string; readonly accountId?: string } };
  };
}

export interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface ApproveDeps {
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly env: ApproveEnv;
  /** @default Date.now */
  readonly now?: () => number;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

const MAX_BODY = 4096;
const COMMENT = /^[\x20-\x7e]{0,500}$/;

export function createApproveHandler(deps: ApproveDeps): (event: FunctionUrlEvent) => Promise<FunctionUrlResult> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields })));
  const { modelsBucket, modelName } = deps.env;
  const versionPattern = new RegExp(`^${modelName.replace(/-/g, '\\-')}@[A-Za-z0-9](-*[A-Za-z0-9]){0,62}$`);

  return async (event) => {
    const approver = event?.requestContext?.authorizer?.iam?.userArn;
    if (typeof approver !== 'string' || !approver.startsWith('arn:')) {
      // Only a function URL request signed with SigV4 carries a verified identity.
      return answer(403, { message: 'a signed request through the function URL (IAM authorization) is required' });
    }
    if ((event.requestContext?.http?.method ?? 'POST') !== 'POST') return answer(405, { message: 'use POST' });
    const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    if (raw.length > MAX_BODY) return answer(413, { message: `the body must be at most ${MAX_BODY} bytes` });
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      return answer(400, { message: 'the body must be JSON: {"modelVersion": "<model>@<n>", "decision": "APPROVED" | "REJECTED", "comment": "..."}' });
    }
    const { modelVersion, decision, comment } = body ?? {};
    if (typeof modelVersion !== 'string' || !versionPattern.test(modelVersion)) {
      return answer(400, { message: `modelVersion must be a version of ${modelName} (${modelName}@<n>)` });
    }
    if (decision !== 'APPROVED' && decision !== 'REJECTED') return answer(400, { message: 'decision must be APPROVED or REJECTED' });
    if (comment !== undefined && (typeof comment !== 'string' || !COMMENT.test(comment))) {
      return answer(400, { message: 'comment must be at most 500 printable ASCII characters' });
    }

    let token: string | undefined;
    try {
      const r = await deps.s3.send(new GetObjectCommand({ Bucket: modelsBucket, Key: PROMOTION_KEYS.approvalRequest(modelVersion) }));
      const request = JSON.parse(await r.Body!.transformToString('utf8'));
      token = typeof request?.taskToken === 'string' ? request.taskToken : undefined;
    } catch (e) {
      if (!isMissing(e)) throw e;
    }
    if (!token) return answer(404, { message: `no approval was requested for ${modelVersion}` });

    const output: ApprovalDecision = { decision, approver, decidedAt: new Date(now()).toISOString(), comment: comment ?? '' };
    try {
      await deps.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
    } catch (e) {
      const { error } = errorInfo(e);
      if (['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'].includes(error)) {
        log('approval not pending', { modelVersion, decision, approver, error });
        return answer(409, { message: `the approval of ${modelVersion} is no longer pending (decided already, or timed out)` });
      }
      throw e;
    }
    log('approval decided', { modelVersion, decision, approver });
    return answer(200, { modelVersion, decision, approver });
  };
}

function answer(statusCode: number, body: Record<string, unknown>): FunctionUrlResult {
  return { statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}
