import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { BuiltArtifact, buildArtifact } from './bundle';
import { EXPECTED, METADATA, predictEvent } from './fixture';

/**
 * The zip artifact (bundle + reference model + onnxruntime-node for linux-x64 only) runs in a fresh
 * Node process that can resolve nothing outside the artifact, and answers with PyTorch's outputs.
 */
let artifact: BuiltArtifact;

beforeAll(() => {
  artifact = buildArtifact();
});

afterAll(() => {
  artifact?.remove();
});

/** Runs `script` with node in the artifact directory; the script writes its result to fd 3. */
function runInArtifact(script: string, env: Record<string, string>): { result: any; stdout: string; stderr: string; status: number | null } {
  const resultFile = path.join(artifact.dir, `result-${Date.now()}.json`);
  const proc = spawnSync(process.execPath, ['-e', script], {
    cwd: artifact.dir,
    // Nothing from the repository: no NODE_PATH, HOME is the artifact.
    env: { PATH: '/usr/bin:/bin', HOME: artifact.dir, LANG: 'C.UTF-8', RESULT_FILE: resultFile, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const result = fs.existsSync(resultFile) ? JSON.parse(fs.readFileSync(resultFile, 'utf8')) : undefined;
  return { result, stdout: proc.stdout, stderr: proc.stderr, status: proc.status };
}

const ENV = {
  MODEL_SOURCE: 'asset',
  MODEL_PATH: 'model/model.onnx',
  MODEL_SHA256: METADATA.sha256,
  MODEL_VERSION: METADATA.version,
  CLASS_NAMES: JSON.stringify(METADATA.classNames),
};

test('the bundle requires only Node built-ins, the AWS SDK and onnxruntime-node', () => {
  const code = fs.readFileSync(artifact.entry, 'utf8');
  const ids = new Set([...code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]));
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const externals = [...ids].filter((id) => !builtins.has(id) && !id.startsWith('.')).sort();
  expect(externals).toEqual(['@aws-sdk/client-s3', 'onnxruntime-node']);
});

test('the artifact carries one platform\'s runtime and stays far below Lambda\'s 250 MB', () => {
  const bins = path.join(artifact.dir, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
  expect(fs.readdirSync(bins)).toEqual(['linux']);
  expect(fs.readdirSync(path.join(bins, 'linux'))).toEqual(['x64']);
  expect(fs.readdirSync(path.join(bins, 'linux', 'x64')).sort()).toEqual(['libonnxruntime.so.1', 'onnxruntime_binding.node']);
  expect(artifact.sizes.total).toBeLessThan(250 * 1024 * 1024);
  expect(artifact.sizes.total).toBeLessThan(60 * 1024 * 1024);
});

test('the artifact serves the reference model in a fresh Node process, with PyTorch\'s outputs', () => {
  const event = predictEvent(JSON.stringify({ inputs: EXPECTED.inputs }));
  const { result, stdout, stderr, status } = runInArtifact(`
    const fs = require('node:fs');
    const { handler } = require('./index.js');
    handler(${JSON.stringify(event)}).then((res) => fs.writeFileSync(process.env.RESULT_FILE, JSON.stringify(res)));
  `, ENV);
  expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
  expect(result.statusCode).toBe(200);
  const body = JSON.parse(result.body);
  expect(body.modelVersion).toBe(METADATA.version);
  const logits: number[] = body.outputs.logits.flat();
  const worst = Math.max(...EXPECTED.outputs.logits.flat().map((e, i) => Math.abs(logits[i] - e)));
  expect(worst).toBeLessThanOrEqual(EXPECTED.tolerance);
  expect(body.predictions.map((p: any) => p.index)).toEqual(EXPECTED.whoRuleGrade);
  // stdout: the init log, the ModelLoadTime line and the request's EMF line, all JSON
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((l) => l.message ?? Object.keys(l).find((k) => /Time|Latency/.test(k)))).toEqual(['model loaded', 'ModelLoadTime', 'RequestLatency']);
});

test('a configuration error fails the init phase in the fresh process, naming the variable', () => {
  const { status, stderr } = runInArtifact('require("./index.js")', { ...ENV, MODEL_SOURCE: 'efs' });
  expect(status).not.toBe(0);
  expect(stderr).toContain('ModelInitError: environment variable MODEL_SOURCE must be asset or s3');
});
