import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METADATA, MODEL_PATH } from './fixture';
import { ModelInitError } from '../../src/serverless-model-endpoint/runtime/errors';
import { fileModelSource, loadModelBytes, s3ModelSource, sha256Hex } from '../../src/serverless-model-endpoint/runtime/model-source';

async function initError(p: Promise<unknown>): Promise<ModelInitError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelInitError);
    return e as ModelInitError;
  }
  throw new Error('expected a ModelInitError');
}

describe('loadModelBytes', () => {
  test('reads the committed model, whose SHA-256 is the one in model.json', async () => {
    const model = await loadModelBytes(fileModelSource(MODEL_PATH), METADATA.sha256);
    expect(model.sha256).toBe(METADATA.sha256);
    expect(model.bytes.length).toBe(METADATA.bytes);
    expect(model.readMs).toBeGreaterThanOrEqual(0);
    expect(sha256Hex(fs.readFileSync(MODEL_PATH))).toBe(METADATA.sha256);
  });

  test('accepts an upper-case expected hash and no expected hash at all', async () => {
    expect((await loadModelBytes(fileModelSource(MODEL_PATH), METADATA.sha256.toUpperCase())).sha256).toBe(METADATA.sha256);
    expect((await loadModelBytes(fileModelSource(MODEL_PATH))).sha256).toBe(METADATA.sha256);
  });

  test('fails if one byte of the model differs from the configured hash, naming source and both hashes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sme-model-'));
    const corrupted = path.join(dir, 'model.onnx');
    const bytes = fs.readFileSync(MODEL_PATH);
    bytes[3000] = (bytes[3000] + 1) % 256;
    fs.writeFileSync(corrupted, bytes);
    const e = await initError(loadModelBytes(fileModelSource(corrupted), METADATA.sha256));
    expect(e.reason).toBe('INTEGRITY');
    expect(e.message).toBe(`model integrity check failed for file:${corrupted}: expected SHA-256 ${METADATA.sha256}, got ${sha256Hex(bytes)} `
      + `(${bytes.length} bytes); the model is not the one this endpoint was deployed with (corrupted, or replaced without a new deployment)`);
    fs.rmSync(dir, { recursive: true });
  });

  test('fails if the model is empty or cannot be read', async () => {
    const empty = await initError(loadModelBytes(s3ModelSource('b', 'k', async () => new Uint8Array(0))));
    expect(empty.reason).toBe('INTEGRITY');
    expect(empty.message).toBe('the model at s3://b/k is empty');
    const missing = await initError(loadModelBytes(fileModelSource('/nonexistent/model.onnx'), METADATA.sha256));
    expect(missing.reason).toBe('READ');
    expect(missing.message).toMatch(/^could not read the model from file:\/nonexistent\/model.onnx: Error: ENOENT/);
    const denied = await initError(loadModelBytes(s3ModelSource('b', 'k', async () => {
      throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    })));
    expect(denied.reason).toBe('READ');
    expect(denied.message).toBe('could not read the model from s3://b/k: AccessDenied: Access Denied');
  });
});
