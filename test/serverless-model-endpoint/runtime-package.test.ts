import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { dirBytes } from './bundle';
import { MODEL_PATH } from './fixture';
import { ModelArtifact, ServerlessModelEndpoint } from '../../src';
import { ONNXRUNTIME_VERSION, stageImageContext } from '../../src/serverless-model-endpoint/runtime-package';

const LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024;

function listFiles(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? listFiles(dir, r) : [r];
  });
}

test('synth stages the zip locally (no Docker): handler, model, onnxruntime for linux/x64 only', () => {
  const app = new App();
  const stack = new Stack(app, 'Zip', { env: { account: '111111111111', region: 'eu-central-1' } });
  new ServerlessModelEndpoint(stack, 'Predict', { model: ModelArtifact.fromAsset(MODEL_PATH, { version: 'v1' }) });
  const assembly = app.synth();
  const template = assembly.getStackByName('Zip').template;
  const fn = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime);
  const assetDir = path.join(assembly.directory, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
  const files = listFiles(assetDir);
  expect(files).toEqual(expect.arrayContaining([
    'index.js',
    'model/model.onnx',
    'node_modules/onnxruntime-node/package.json',
    'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
    'node_modules/onnxruntime-common/package.json',
  ]));
  const binaries = files.filter((f) => f.includes('/bin/'));
  expect(binaries.every((f) => f.startsWith('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/'))).toBe(true);
  expect(JSON.parse(fs.readFileSync(path.join(assetDir, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version).toBe(ONNXRUNTIME_VERSION);
  const bytes = dirBytes(assetDir);
  console.log(`zip package, unzipped: ${(bytes / 1024 / 1024).toFixed(1)} MiB of Lambda's 250 MiB (${files.length} files)`);
  expect(bytes).toBeLessThan(LAMBDA_UNZIPPED_LIMIT);
  expect(fs.readFileSync(path.join(assetDir, 'model/model.onnx'))).toEqual(fs.readFileSync(MODEL_PATH));
});

test('the container build context holds the same package and a Dockerfile for the Lambda base image', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-context-'));
  stageImageContext(dir, { arch: 'arm64', modelFile: MODEL_PATH }, lambda.Runtime.NODEJS_24_X);
  const files = listFiles(dir);
  expect(files).toEqual(expect.arrayContaining(['Dockerfile', '.dockerignore', 'app/index.js', 'app/model/model.onnx']));
  expect(files.filter((f) => f.includes('/bin/')).every((f) => f.startsWith('app/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/'))).toBe(true);
  const dockerfile = fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
  expect(dockerfile).toContain('FROM --platform=linux/arm64 public.ecr.aws/lambda/nodejs:24');
  expect(dockerfile).toContain('COPY app/ ${LAMBDA_TASK_ROOT}/');
  expect(dockerfile).toContain('CMD ["index.handler"]');
  fs.rmSync(dir, { recursive: true, force: true });
});
