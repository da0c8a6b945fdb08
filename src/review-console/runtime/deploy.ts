/**
 * The review console's deployment (a CloudFormation custom resource): on Create and Update it
 * copies the console's files from their asset objects into the site bucket (SSE-KMS with the
 * site key, `Cache-Control: no-cache`) and writes config.json; on Delete it leaves the retained
 * bucket as it is. It answers CloudFormation by PUT to the presigned ResponseURL, with a reason
 * that names the failing step and error, never a file's contents.
 */
import { CopyObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { CACHE_CONTROL, CONFIG_KEY, DEPLOY_ENV, DeployFile, DeployProperties } from './contract';
import { errorName } from '../../private/runtime/sdk-errors';

export interface DeployDeps {
  readonly s3: S3Client;
  readonly env: Readonly<Record<(typeof DEPLOY_ENV)[keyof typeof DEPLOY_ENV], string | undefined>>;
  /** Sends the answer to CloudFormation. @default PUT with fetch */
  readonly respond?: (url: string, body: string) => Promise<void>;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

const SAFE_KEY = /^(?:[A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]+$/;

/** The custom resource's properties, checked (a template edited by hand cannot write elsewhere). */
export function parseProperties(value: unknown): DeployProperties {
  const p = value as Partial<DeployProperties> | undefined;
  if (!p || !Array.isArray(p.files) || typeof p.config !== 'string') throw new Error('properties must have files (array) and config (string)');
  try {
    JSON.parse(p.config);
  } catch {
    // The parser's message may quote the text; say only what is wrong.
    throw new Error('config is not valid JSON');
  }
  for (const f of p.files as Partial<DeployFile>[]) {
    if (typeof f?.sourceBucket !== 'string' || typeof f.sourceKey !== 'string' || typeof f.contentType !== 'string'
      || typeof f.target !== 'string' || !SAFE_KEY.test(f.target) || f.target.split('/').includes('..') || f.target === CONFIG_KEY) {
      throw new Error('each file needs sourceBucket, sourceKey, contentType and a plain relative target key other than config.json');
    }
  }
  return { files: p.files as DeployFile[], config: p.config };
}

async function putResponse(url: string, body: string): Promise<void> {
  // The presigned URL is signed for an empty Content-Type.
  const res = await fetch(url, { method: 'PUT', body, headers: { 'Content-Type': '' } });
  if (!res.ok) throw new Error(`CloudFormation response was refused: HTTP ${res.status}`);
}

export function createDeployHandler(deps: DeployDeps): (event: CloudFormationCustomResourceEvent) => Promise<void> {
  const bucket = deps.env.SITE_BUCKET;
  const keyArn = deps.env.SITE_KEY_ARN;
  if (!bucket || !keyArn) throw new Error(`${DEPLOY_ENV.siteBucket} and ${DEPLOY_ENV.siteKeyArn} must be set`);
  const respond = deps.respond ?? putResponse;
  const log = deps.log ?? ((message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields })));

  const deploy = async (props: DeployProperties) => {
    for (const f of props.files) {
      await deps.s3.send(new CopyObjectCommand({
        Bucket: bucket,
        Key: f.target,
        CopySource: `${f.sourceBucket}/${f.sourceKey.split('/').map(encodeURIComponent).join('/')}`,
        MetadataDirective: 'REPLACE',
        ContentType: f.contentType,
        CacheControl: CACHE_CONTROL,
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: keyArn,
      }));
    }
    await deps.s3.send(new PutObjectCommand({
      Bucket: bucket,
      Key: CONFIG_KEY,
      Body: props.config,
      ContentType: 'application/json',
      CacheControl: CACHE_CONTROL,
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: keyArn,
    }));
  };

  return async (event) => {
    const physicalId = event.RequestType === 'Create' ? `review-console-${bucket}` : event.PhysicalResourceId;
    let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
    let reason = 'deployed';
    try {
      if (event.RequestType === 'Delete') {
        reason = 'nothing to do: the site bucket and its files are kept';
      } else {
        const props = parseProperties(event.ResourceProperties);
        await deploy(props);
        reason = `deployed ${props.files.length + 1} object(s)`;
      }
    } catch (e) {
      status = 'FAILED';
      reason = `deployment failed: ${errorName(e)}${e instanceof Error && !('$metadata' in e) ? `: ${e.message}` : ''}`;
    }
    log('review console deployment', { requestType: event.RequestType, status });
    await respond(event.ResponseURL, JSON.stringify({
      Status: status,
      Reason: reason,
      PhysicalResourceId: physicalId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      NoEcho: false,
    }));
  };
}
