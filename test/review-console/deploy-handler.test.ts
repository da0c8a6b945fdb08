import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { DeployFile } from '../../src/review-console/runtime/contract';
import { createDeployHandler, parseProperties } from '../../src/review-console/runtime/deploy';
import { expectAssetLoads } from '../support/assets';
import { useLocalAws } from '../support/local-aws';

/**
 * The review console's deployment handler against moto_server (S3 CopyObject / PutObject with
 * SSE-KMS), answering CloudFormation on a local HTTP server that stands in for the presigned
 * response URL.
 */
const aws = useLocalAws();
let s3: S3Client;
let keyArn: string;
const ASSETS = 'cdk-assets-bucket';
const SITE = 'review-console-site';
const answers: Array<Record<string, unknown>> = [];
let responseUrl: string;
let server: http.Server;

const FILES: DeployFile[] = [
  { sourceBucket: ASSETS, sourceKey: 'a1b2.html', target: 'index.html', contentType: 'text/html; charset=utf-8' },
  { sourceBucket: ASSETS, sourceKey: 'c3d4.js', target: 'console.js', contentType: 'text/javascript; charset=utf-8' },
  { sourceBucket: ASSETS, sourceKey: 'e5f6.js', target: 'views/audiogram.js', contentType: 'text/javascript; charset=utf-8' },
];
const CONFIG = JSON.stringify({ apiUrl: 'https://api.example.com/prod/', classes: ['normal', 'mild'] });

function event(requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown>): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ServiceToken: 'arn:aws:lambda:eu-central-1:111111111111:function:deploy',
    ResponseURL: `${responseUrl}/?X-Amz-Signature=abc`,
    StackId: 'arn:aws:cloudformation:eu-central-1:111111111111:stack/Console/1',
    RequestId: 'req-1',
    LogicalResourceId: 'ReviewConsoleDeployment',
    ResourceType: 'Custom::ReviewConsoleDeployment',
    ResourceProperties: { ServiceToken: 'x', ...properties },
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: `review-console-${SITE}` }),
    ...(requestType === 'Update' ? { OldResourceProperties: {} } : {}),
  } as CloudFormationCustomResourceEvent;
}

beforeAll(async () => {
  s3 = aws().s3();
  keyArn = (await aws().kms().send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  for (const b of [ASSETS, SITE]) {
    await s3.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: aws().region as never } }));
  }
  for (const [key, body] of [['a1b2.html', '<!doctype html>'], ['c3d4.js', 'console()'], ['e5f6.js', 'export const matches = () => true;']]) {
    await s3.send(new PutObjectCommand({ Bucket: ASSETS, Key: key, Body: body, ContentType: 'binary/octet-stream' }));
  }
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      answers.push({ method: req.method, contentType: req.headers['content-type'] ?? '', ...JSON.parse(body) });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

const handler = () => createDeployHandler({ s3, env: { SITE_BUCKET: SITE, SITE_KEY_ARN: keyArn }, log: () => undefined });
const text = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: SITE, Key: key }))).Body!.transformToString();

test('Create copies the files with their content types, SSE-KMS and no-cache, writes config.json, answers SUCCESS', async () => {
  await handler()(event('Create', { files: FILES, config: CONFIG }));
  expect(answers.pop()).toMatchObject({
    method: 'PUT',
    contentType: '',
    Status: 'SUCCESS',
    Reason: 'deployed 4 object(s)',
    PhysicalResourceId: `review-console-${SITE}`,
    StackId: expect.stringContaining(':stack/Console/'),
    RequestId: 'req-1',
    LogicalResourceId: 'ReviewConsoleDeployment',
  });
  for (const f of FILES) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: SITE, Key: f.target }));
    expect(head).toMatchObject({ ContentType: f.contentType, CacheControl: 'no-cache', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: keyArn });
  }
  expect(await text('views/audiogram.js')).toBe('export const matches = () => true;');
  expect(JSON.parse(await text('config.json'))).toEqual(JSON.parse(CONFIG));
  const config = await s3.send(new HeadObjectCommand({ Bucket: SITE, Key: 'config.json' }));
  expect(config).toMatchObject({ ContentType: 'application/json', CacheControl: 'no-cache', ServerSideEncryption: 'aws:kms' });
});

test('Update writes the new configuration; Delete keeps every file', async () => {
  const updated = JSON.stringify({ ...JSON.parse(CONFIG), title: 'Audiogram review' });
  await handler()(event('Update', { files: FILES, config: updated }));
  expect(answers.pop()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `review-console-${SITE}` });
  expect(JSON.parse(await text('config.json')).title).toBe('Audiogram review');
  await handler()(event('Delete', {}));
  expect(answers.pop()).toMatchObject({ Status: 'SUCCESS', Reason: 'nothing to do: the site bucket and its files are kept' });
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: SITE }));
  expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(['config.json', 'console.js', 'index.html', 'views/audiogram.js']);
});

test('a missing asset answers FAILED with the error name, never file contents', async () => {
  await handler()(event('Update', { files: [{ ...FILES[0], sourceKey: 'missing.html' }], config: CONFIG }));
  const answer = answers.pop()!;
  expect(answer).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/^deployment failed: (NoSuchKey|NotFound)/) });
  expect(String(answer.Reason)).not.toContain('apiUrl');
});

test.each([
  ['a target outside the site', { files: [{ ...FILES[0], target: '../other/index.html' }], config: CONFIG }],
  ['a target that replaces config.json', { files: [{ ...FILES[0], target: 'config.json' }], config: CONFIG }],
  ['an absolute target', { files: [{ ...FILES[0], target: '/index.html' }], config: CONFIG }],
  ['a config that is not JSON', { files: FILES, config: '{apiUrl' }],
  ['no files', { config: CONFIG }],
])('fails if the properties hold %s (FAILED, nothing written)', async (_, properties) => {
  expect(() => parseProperties(properties)).toThrow();
  await handler()(event('Create', properties));
  expect(answers.pop()).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/^deployment failed: /) });
});

test('fails at init without its environment', () => {
  expect(() => createDeployHandler({ s3, env: { SITE_BUCKET: SITE, SITE_KEY_ARN: undefined } })).toThrow(/SITE_BUCKET and SITE_KEY_ARN must be set/);
});

test('the bundled asset loads in a fresh Node process', () => {
  const result = expectAssetLoads(path.join('assets', 'review-console', 'runtime', 'deploy.handler'), {
    env: { SITE_BUCKET: SITE, SITE_KEY_ARN: 'arn:aws:kms:eu-central-1:111111111111:key/1' },
  });
  expect(result.externals).toEqual(['@aws-sdk/client-s3']);
});
