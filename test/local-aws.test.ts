import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { CreateKeyCommand, GenerateMacCommand, VerifyMacCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { MOTO_SERVER_BIN, PDEATHSIG_WRAPPER, startLocalAws, useLocalAws } from './support/local-aws';
import { decodePostPolicy, postPresigned } from './support/presigned-post';

const aws = useLocalAws();

async function createKmsKey(): Promise<{ keyId: string; arn: string }> {
  const res = await aws().kms().send(new CreateKeyCommand({ Description: 'test data key' }));
  return { keyId: res.KeyMetadata!.KeyId!, arn: res.KeyMetadata!.Arn! };
}

describe('local AWS (moto)', () => {
  test('endpoint is a loopback IP and clientConfig carries dummy credentials', () => {
    expect(aws().endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(aws().clientConfig).toMatchObject({ endpoint: aws().endpoint, region: 'eu-central-1', forcePathStyle: true });
    expect(aws().env.AWS_ENDPOINT_URL).toBe(aws().endpoint);
  });

  test('S3 put/get with SSE-KMS under a key created in moto', async () => {
    const s3 = aws().s3();
    const { keyId, arn } = await createKmsKey();
    const Bucket = 'sse-kms-bucket';
    await s3.send(new CreateBucketCommand({ Bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }));
    const put = await s3.send(new PutObjectCommand({
      Bucket,
      Key: 'raw/a.json',
      Body: '{"hr":72}',
      ContentType: 'application/json',
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: arn,
    }));
    expect(put.ServerSideEncryption).toBe('aws:kms');

    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'raw/a.json' }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toContain(keyId);

    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'raw/a.json' }));
    expect(got.ServerSideEncryption).toBe('aws:kms');
    expect(got.SSEKMSKeyId).toContain(keyId);
    expect(await got.Body!.transformToString()).toBe('{"hr":72}');
  });

  test('KMS HMAC_256 key: GenerateMac is deterministic per input and verifies', async () => {
    const kms = aws().kms();
    const key = await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }));
    const KeyId = key.KeyMetadata!.KeyId!;
    expect(key.KeyMetadata!.KeySpec).toBe('HMAC_256');
    const mac = async (text: string) => {
      const res = await kms.send(new GenerateMacCommand({ KeyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from(text) }));
      return Buffer.from(res.Mac!).toString('hex');
    };
    const a1 = await mac('patient-123');
    const a2 = await mac('patient-123');
    const b = await mac('patient-124');
    expect(a1).toMatch(/^[0-9a-f]{64}$/);
    expect(a2).toBe(a1);
    expect(b).not.toBe(a1);

    const other = await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }));
    const fromOtherKey = await kms.send(new GenerateMacCommand({
      KeyId: other.KeyMetadata!.KeyId!, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('patient-123'),
    }));
    expect(Buffer.from(fromOtherKey.Mac!).toString('hex')).not.toBe(a1);

    const verified = await kms.send(new VerifyMacCommand({
      KeyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from('patient-123'), Mac: Buffer.from(a1, 'hex'),
    }));
    expect(verified.MacValid).toBe(true);
  });

  test('presigned POST sent as multipart/form-data with fetch lands the object in moto', async () => {
    const s3 = aws().s3();
    const { arn } = await createKmsKey();
    const Bucket = 'upload-bucket';
    await s3.send(new CreateBucketCommand({ Bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }));
    const Key = 'uploads/user-1/rec-1.csv';
    const { url, fields } = await createPresignedPost(s3, {
      Bucket,
      Key,
      Expires: 300,
      Fields: { 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': arn, 'Content-Type': 'text/csv' },
      Conditions: [
        ['content-length-range', 1, 1024],
        ['starts-with', '$key', 'uploads/user-1/'],
        { 'x-amz-server-side-encryption': 'aws:kms' },
        { 'x-amz-server-side-encryption-aws-kms-key-id': arn },
        { 'Content-Type': 'text/csv' },
      ],
    });
    expect(url).toBe(`${aws().endpoint}/${Bucket}`);

    const res = await postPresigned(url, fields, 't,hr\n0,72\n', 'text/csv', 'rec-1.csv');
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);

    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(await got.Body!.transformToString()).toBe('t,hr\n0,72\n');
    expect(got.ContentType).toBe('text/csv');

    // The signed policy is what S3 enforces; moto does not, so tests assert it decoded.
    const policy = decodePostPolicy(fields);
    expect(policy.conditions).toEqual(expect.arrayContaining([
      ['content-length-range', 1, 1024],
      ['starts-with', '$key', 'uploads/user-1/'],
      { 'x-amz-server-side-encryption-aws-kms-key-id': arn },
    ]));
    expect(Date.parse(policy.expiration) - Date.now()).toBeLessThanOrEqual(300_000);
  });

  test('reset() forgets all state', async () => {
    const s3 = aws().s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'to-be-forgotten', CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }));
    await aws().reset();
    const list = await s3.send(new ListBucketsCommand({}));
    expect(list.Buckets ?? []).toEqual([]);
  });

  test('clients built from the environment alone (AWS_ENDPOINT_URL, no path-style flag) reach moto', async () => {
    const restore = aws().applyEnv();
    try {
      const s3 = new S3Client({}); // what handler code does at module scope
      await s3.send(new CreateBucketCommand({ Bucket: 'from-env', CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } }));
      await s3.send(new PutObjectCommand({ Bucket: 'from-env', Key: 'k', Body: 'v' }));
      const got = await aws().s3().send(new GetObjectCommand({ Bucket: 'from-env', Key: 'k' }));
      expect(await got.Body!.transformToString()).toBe('v');
    } finally {
      restore();
    }
    expect(process.env.AWS_ENDPOINT_URL).not.toBe(aws().endpoint);
  });
});

describe('startLocalAws lifecycle', () => {
  test('two servers run side by side on different ports; stop() ends the process', async () => {
    const second = await startLocalAws();
    try {
      expect(second.port).not.toBe(aws().port);
      const res = await fetch(`${second.endpoint}/moto-api/`);
      expect(res.status).toBe(200);
    } finally {
      await second.stop();
    }
    await expect(fetch(`${second.endpoint}/moto-api/`)).rejects.toThrow();
    await second.stop(); // idempotent
  });

  test('a port taken by another server (even one that answers /moto-api/) is not mistaken for ours', async () => {
    const impostor = http.createServer((_req, res) => res.end('not moto'));
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    const port = (impostor.address() as AddressInfo).port;
    try {
      await expect(startLocalAws({ port })).rejects.toThrow(/exited during start[\s\S]*in use/);
    } finally {
      impostor.close();
    }
  });

  test('a missing moto_server points at setup:tools', async () => {
    await expect(startLocalAws({ motoServerBin: '/nonexistent/moto_server' })).rejects.toThrow(/npx projen setup:tools/);
  });

  test('moto is killed when its Node parent dies without cleanup (SIGKILL)', async () => {
    // A child Node process starts moto through the same wrapper, prints moto's pid and is SIGKILLed.
    const script = `
      const { spawn } = require('node:child_process');
      const c = spawn(process.argv[1], ['-c', process.argv[2], String(process.pid), process.argv[3], '-H', '127.0.0.1', '-p', '0'], { stdio: 'ignore' });
      console.log(c.pid);
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), 1500);
    `;
    const python = path.join(path.dirname(MOTO_SERVER_BIN), 'python');
    const out = spawnSync(process.execPath, ['-e', script, python, PDEATHSIG_WRAPPER, MOTO_SERVER_BIN], { encoding: 'utf8' });
    const motoPid = Number(out.stdout.trim());
    expect(motoPid).toBeGreaterThan(0);
    const deadline = Date.now() + 10_000;
    let alive = true;
    while (alive && Date.now() < deadline) {
      // Gone, or a zombie waiting for a reaper (state Z): either way moto no longer runs.
      const stat = fs.existsSync(`/proc/${motoPid}/stat`) ? fs.readFileSync(`/proc/${motoPid}/stat`, 'utf8') : '';
      alive = stat !== '' && !/^\d+ \(.*\) Z/.test(stat);
      if (alive) await new Promise((r) => setTimeout(r, 100));
    }
    expect(alive).toBe(false);
  });
});
