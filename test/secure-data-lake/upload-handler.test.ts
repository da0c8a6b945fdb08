import * as path from 'node:path';
import { CreateKeyCommand, GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as fc from 'fast-check';
import { SecureDataLake, SecureUploadApi } from '../../src';
import { callerMacMessage, CallerIdentity } from '../../src/private/runtime/caller-identity';
import { readUploadConfig } from '../../src/secure-data-lake/runtime/upload-request';
import { createUploadHandler } from '../../src/secure-data-lake/runtime/upload-url';
import { expectAssetLoads } from '../support/assets';
import { useLocalAws } from '../support/local-aws';
import { decodePostPolicy, postPresigned } from '../support/presigned-post';

/**
 * The upload handler exactly as deployed (the bundled asset, configured with the environment the
 * construct synthesizes) against moto_server over real HTTP. moto does not enforce POST policy
 * conditions, so the limits are proven on the decoded, signed policy document.
 */
const ASSET_DIR = path.join(__dirname, '..', '..', 'assets', 'secure-data-lake', 'runtime', 'upload-url.handler');
const SUB = '7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1';

const aws = useLocalAws({ setEnv: true });
let handler: (event: any) => Promise<any>;
let bucket: string;
let keyArn: string;
let hmacKeyArn: string;

/** The handler environment the construct synthesizes, with the bucket and key of moto. */
function synthesizedEnvironment(): Record<string, string> {
  const app = new App();
  const stack = new Stack(app, 'Env', { env: { account: '111111111111', region: 'eu-central-1' } });
  const lake = new SecureDataLake(stack, 'Lake');
  new SecureUploadApi(stack, 'Uploads', { lake, allowedOrigins: ['https://app.example.com'], maxObjectSize: Size.kibibytes(4) });
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
  const vars: Record<string, unknown> = fn.Properties.Environment.Variables;
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => {
    if (k === 'BUCKET_NAME') return [k, bucket];
    if (k === 'KMS_KEY_ARN') return [k, keyArn];
    if (k === 'HMAC_KEY_ID') return [k, hmacKeyArn];
    if (typeof v !== 'string') throw new Error(`unexpected token in ${k}`);
    return [k, v];
  }));
}

const event = (body: string | null, claims: Record<string, string> | null = { sub: SUB }, headers: Record<string, string> = {}) => ({
  body,
  isBase64Encoded: false,
  headers,
  requestContext: { authorizer: claims ? { claims } : undefined, identity: {} },
});

beforeAll(async () => {
  bucket = `raw-${Date.now()}`;
  await aws().s3().send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: aws().region as any } }));
  const key = await aws().kms().send(new CreateKeyCommand({ Description: 'lake data key' }));
  keyArn = key.KeyMetadata!.Arn!;
  const hmacKey = await aws().kms().send(new CreateKeyCommand({ Description: 'lake pseudonymization key', KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }));
  hmacKeyArn = hmacKey.KeyMetadata!.Arn!;
  Object.assign(process.env, synthesizedEnvironment());
  // The bundled asset, loaded as Lambda would load it (after its environment is set).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = require(path.join(ASSET_DIR, 'index.js')).handler;
});

test('the bundled asset loads in a fresh Node process; only the runtime\'s SDK client stays external', () => {
  const result = expectAssetLoads(ASSET_DIR, {
    env: { BUCKET_NAME: 'b', KMS_KEY_ARN: 'arn:aws:kms:eu-central-1:111111111111:key/k', HMAC_KEY_ID: 'arn:aws:kms:eu-central-1:111111111111:key/h', MAX_BYTES: '10', ALLOWED_CONTENT_TYPES: '["application/json"]', EXPIRY_SECONDS: '60' },
  });
  // @aws-sdk/s3-presigned-post is not promised by the Lambda runtime: it is bundled.
  expect(result.externals).toEqual(['@aws-sdk/client-kms', '@aws-sdk/client-s3']);
});

/** The pseudonym segment of an identity: 32 hex digits of GenerateMac with the lake's HMAC key (as moto computes it). */
async function pseudonymOf(identity: CallerIdentity): Promise<string> {
  const res = await aws().kms().send(new GenerateMacCommand({ KeyId: hmacKeyArn, MacAlgorithm: 'HMAC_SHA_256', Message: callerMacMessage(identity) }));
  return Buffer.from(res.Mac!).toString('hex').slice(0, 32);
}

test('a signed-in caller gets a presigned POST whose upload lands in the raw zone under its pseudonym folder', async () => {
  const record = JSON.stringify({ schemaVersion: '1', sessionId: 's-1', thresholds: {} });
  const res = await handler(event(JSON.stringify({ contentType: 'application/json' })));
  expect(res.statusCode).toBe(200);
  expect(res.headers['Cache-Control']).toBe('no-store');
  const grant = JSON.parse(res.body);
  const folder = await pseudonymOf({ kind: 'cognito-sub', value: SUB });
  expect(grant.key).toMatch(new RegExp(`^uploads/${folder}/\\d{4}/\\d{2}/\\d{2}/[0-9a-f-]{36}\\.json$`));
  // the raw identity is nowhere in what the caller (or S3, or the pipeline after it) sees
  expect(res.body).not.toContain(SUB);
  expect(grant.maxBytes).toBe(4096);

  const upload = await postPresigned(grant.url, grant.fields, record, 'application/json', 'result.json');
  expect(upload.status).toBeLessThan(300);
  const stored = await aws().s3().send(new GetObjectCommand({ Bucket: bucket, Key: grant.key }));
  expect(await stored.Body!.transformToString()).toBe(record);
  const head = await aws().s3().send(new HeadObjectCommand({ Bucket: bucket, Key: grant.key }));
  expect(head.ContentType).toBe('application/json');
});

test('the signed policy pins the key, caps the size, fixes the content type, requires SSE-KMS with the lake key, and expires within 5 minutes', async () => {
  const before = Date.now();
  const res = await handler(event(JSON.stringify({ contentType: 'application/json', contentLength: 812 })));
  const grant = JSON.parse(res.body);
  const policy = decodePostPolicy(grant.fields);
  expect(policy.conditions).toEqual(expect.arrayContaining([
    { bucket },
    ['eq', '$key', grant.key],
    ['content-length-range', 812, 812],
    ['eq', '$Content-Type', 'application/json'],
    ['eq', '$x-amz-server-side-encryption', 'aws:kms'],
    ['eq', '$x-amz-server-side-encryption-aws-kms-key-id', keyArn],
  ]));
  expect(grant.key.startsWith(`uploads/${await pseudonymOf({ kind: 'cognito-sub', value: SUB })}/`)).toBe(true);
  expect(policy.conditions.filter((c: any) => Array.isArray(c) && c[1] === '$key')).toEqual([['eq', '$key', grant.key]]);
  expect(grant.fields['x-amz-server-side-encryption']).toBe('aws:kms');
  expect(grant.fields['x-amz-server-side-encryption-aws-kms-key-id']).toBe(keyArn);
  const expiresInMs = Date.parse(policy.expiration) - before;
  expect(expiresInMs).toBeGreaterThan(0);
  expect(expiresInMs).toBeLessThanOrEqual(300_000 + 2_000);
  // Every form field the client must send is covered by a condition (S3 rejects others).
  const covered = new Set(policy.conditions.flatMap((c: any) => (Array.isArray(c) ? [String(c[1]).replace(/^\$/, '').toLowerCase()] : Object.keys(c).map((k) => k.toLowerCase()))));
  for (const field of Object.keys(grant.fields).filter((f) => !/^(policy|x-amz-signature)$/i.test(f))) {
    expect([field, covered.has(field.toLowerCase())]).toEqual([field, true]);
  }
});

test('two callers never share a folder; one caller keeps its folder', async () => {
  const a = JSON.parse((await handler(event('{"contentType":"application/json"}', { sub: 'user-a' }))).body);
  const b = JSON.parse((await handler(event('{"contentType":"application/json"}', { sub: 'user-b' }))).body);
  const a2 = JSON.parse((await handler(event('{"contentType":"application/json"}', { sub: 'user-a' }))).body);
  expect(a.key.split('/')[1]).toBe(await pseudonymOf({ kind: 'cognito-sub', value: 'user-a' }));
  expect(b.key.split('/')[1]).toBe(await pseudonymOf({ kind: 'cognito-sub', value: 'user-b' }));
  expect(a2.key.split('/')[1]).toBe(a.key.split('/')[1]);
  expect(a.key.split('/')[1]).not.toBe(b.key.split('/')[1]);
  expect(`${a.key} ${b.key}`).not.toMatch(/user-[ab]/);
});

test('IAM callers: the folder is keyed on the principal, not the role session name the caller chooses', async () => {
  const iam = (session: string) => ({
    body: '{"contentType":"application/json"}',
    isBase64Encoded: false,
    headers: {},
    requestContext: { identity: { caller: `AROAEXAMPLEROLEID12:${session}`, userArn: `arn:aws:sts::111111111111:assumed-role/uploader/${session}`, accountId: '111111111111' } },
  });
  const keys = await Promise.all(['alice', 'bob'].map(async (s) => JSON.parse((await handler(iam(s))).body).key as string));
  const folder = await pseudonymOf({ kind: 'iam-principal', value: 'AROAEXAMPLEROLEID12' });
  expect(keys.map((k) => k.split('/')[1])).toEqual([folder, folder]);
  for (const k of keys) expect(k).not.toMatch(/alice|bob|AROA|uploader/);
});

describe('the handler factory (module-scope clients of the bundle replaced by instrumented ones)', () => {
  /** The handler against moto, counting GenerateMac calls, failing them while `failMacs` is set. */
  function instrumented(logs: string[]) {
    const kmsClient = new KMSClient({ ...aws().clientConfig, maxAttempts: 1 });
    const state = { macs: 0, failMacs: false };
    kmsClient.middlewareStack.add((next: any, context: any) => async (args: any) => {
      if (context.commandName === 'GenerateMacCommand') {
        state.macs++;
        if (state.failMacs) throw Object.assign(new Error('injected'), { name: 'KMSInternalException', $fault: 'server', $metadata: { httpStatusCode: 500 } });
      }
      return next(args);
    }, { step: 'initialize', name: 'countMacs' });
    const log = (level: string) => (message: string, extra?: Record<string, unknown>) => logs.push(JSON.stringify({ level, message, ...extra }));
    const handle = createUploadHandler({
      s3: new S3Client({ ...aws().clientConfig }),
      kms: kmsClient,
      config: readUploadConfig(synthesizedEnvironment()),
      allowedOrigins: [],
      logger: { info: log('INFO'), warn: log('WARN'), error: log('ERROR') },
    });
    return { handle, state };
  }

  test('pseudonyms are cached per execution environment: one GenerateMac per caller, not per request', async () => {
    const { handle, state } = instrumented([]);
    for (let i = 0; i < 5; i++) expect((await handle(event('{"contentType":"application/json"}', { sub: 'user-a' }) as any)).statusCode).toBe(200);
    await handle(event('{"contentType":"application/json"}', { sub: 'user-b' }) as any);
    expect(state.macs).toBe(2);
  });

  test('a KMS failure answers 503 and logs the error name only; the next request tries again', async () => {
    const logs: string[] = [];
    const { handle, state } = instrumented(logs);
    state.failMacs = true;
    const res = await handle(event('{"contentType":"application/json"}', { sub: SUB }) as any);
    expect([res.statusCode, JSON.parse(res.body)]).toEqual([503, { message: 'the upload could not be prepared; try again later' }]);
    expect(logs.map((l) => JSON.parse(l))).toEqual([{ level: 'ERROR', message: 'upload failed', reason: 'pseudonymization', error: 'KMSInternalException', status: 500 }]);
    state.failMacs = false;
    expect((await handle(event('{"contentType":"application/json"}', { sub: SUB }) as any)).statusCode).toBe(200);
    expect(logs.join('\n')).not.toContain(SUB);
  });
});

describe('the construct', () => {
  test('sets the pseudonymization key and grants GenerateMac on it (and on no other key)', () => {
    const stack = new Stack(new App(), 'Grant', { env: { account: '111111111111', region: 'eu-central-1' } });
    const lake = new SecureDataLake(stack, 'Lake');
    new SecureUploadApi(stack, 'Uploads', { lake });
    const template = Template.fromStack(stack);
    const hmacKeyId = stack.getLogicalId(lake.pseudonymizationKey!.node.defaultChild as kms.CfnKey);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HMAC_KEY_ID: { 'Fn::GetAtt': [hmacKeyId, 'Arn'] } }) },
    });
    const macStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((st: any) => [st.Action].flat().includes('kms:GenerateMac'));
    expect(macStatements).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'kms:GenerateMac', Resource: { 'Fn::GetAtt': [hmacKeyId, 'Arn'] } })]);
  });

  test('fails if the lake has no pseudonymization key', () => {
    const stack = new Stack(new App(), 'NoHmac', { env: { account: '111111111111', region: 'eu-central-1' } });
    const arn = (zone: string) => `arn:aws:s3:::lake-${zone}`;
    const lake = SecureDataLake.fromSecureDataLakeAttributes(stack, 'Lake', {
      rawBucketArn: arn('raw'),
      cleanBucketArn: arn('clean'),
      curatedBucketArn: arn('curated'),
      quarantineBucketArn: arn('quarantine'),
      modelsBucketArn: arn('models'),
      encryptionKeyArn: 'arn:aws:kms:eu-central-1:111111111111:key/11111111-2222-3333-4444-555555555555',
    });
    expect(() => new SecureUploadApi(stack, 'Uploads', { lake })).toThrow(
      'NoHmac/Uploads: invalid lake: received "a lake without a pseudonymization key"; the upload route names each caller\'s folder by a keyed pseudonym: pass a SecureDataLake, or import one with pseudonymizationKeyArn',
    );
  });
});

test('CORS: the allowed origin is echoed, any other is not', async () => {
  const allowed = await handler(event('{"contentType":"application/json"}', { sub: SUB }, { origin: 'https://app.example.com' }));
  expect(allowed.headers['Access-Control-Allow-Origin']).toBe('https://app.example.com');
  const other = await handler(event('{"contentType":"application/json"}', { sub: SUB }, { origin: 'https://evil.example.com' }));
  expect(other.headers['Access-Control-Allow-Origin']).toBeUndefined();
});

test('a request without a caller identity gets 403', async () => {
  const res = await handler(event('{"contentType":"application/json"}', null));
  expect(res.statusCode).toBe(403);
  expect(JSON.parse(res.body)).toEqual({ message: 'the request carries no caller identity' });
});

test('fuzz: bad bodies get a 400 with a message, never a 5xx, and nothing from the body is logged', async () => {
  const logged: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  const capture = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    logged.push(String(chunk));
    return true;
  });
  const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation((...args: any[]) => {
    logged.push(args.map(String).join(' '));
  }));
  let runs = 0;
  let accepted = 0;
  try {
    await fc.assert(fc.asyncProperty(
      fc.oneof(
        fc.string({ minLength: 1 }),
        fc.json(),
        fc.record({ contentType: fc.string({ minLength: 6 }), contentLength: fc.oneof(fc.integer(), fc.string()) }, { requiredKeys: [] })
          .map((o) => JSON.stringify(o)),
        fc.record(
          { contentType: fc.constant('application/json'), contentLength: fc.integer({ min: -10, max: 10_000 }), marker: fc.constant('SECRET-VALUE-123') },
          { requiredKeys: ['contentType'] },
        ).map((o) => JSON.stringify(o)),
      ),
      async (body) => {
        runs++;
        logged.length = 0;
        const res = await handler(event(body));
        expect(res.statusCode).toBeLessThan(500);
        expect([200, 400]).toContain(res.statusCode);
        if (res.statusCode === 200) { accepted++; }
        if (res.statusCode === 400) { expect(typeof JSON.parse(res.body).message).toBe('string'); }
        const logText = logged.join('\n');
        expect(logText).not.toContain('SECRET-VALUE-123');
        if (body.length >= 8 && !/^"?application\/json"?$/.test(body)) { expect(logText).not.toContain(body); }
      },
    ), { numRuns: 300 });
  } finally {
    capture.mockRestore();
    consoleSpies.forEach((s) => s.mockRestore());
    void original;
  }
  expect(runs).toBe(300);
  // The property must also exercise the success path.
  expect(accepted).toBeGreaterThan(0);
});
