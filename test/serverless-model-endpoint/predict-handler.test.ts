/**
 * @jest-environment ./test/serverless-model-endpoint/ort-environment.js
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fc from 'fast-check';
import {
  assetEnv, captureOutput, emfRecords, EXPECTED, expectKnownRefusal, expectNoLeak, HANDLER, HEARING_REFUSAL_VOCABULARY, HandlerModule,
  loadHandler, logRecords, METADATA, MODEL_PATH, predictEvent, setEnv,
} from './fixture';
import { UUID_V7_PATTERN } from '../../src/serverless-model-endpoint/runtime/inference-id';

/**
 * The handler module as Lambda loads it (module scope runs once), configured through its
 * environment, with the committed model as its asset and the real onnxruntime-node.
 */
const CONTEXT = { awsRequestId: 'req-123', functionName: 'predict', functionVersion: '7', memoryLimitInMB: '1769', invokedFunctionArn: 'arn' } as any;

function expectClose(actual: number[], expected: number[], tolerance = EXPECTED.tolerance): void {
  expect(actual).toHaveLength(expected.length);
  expect(Math.max(...expected.map((e, i) => Math.abs(actual[i] - e)))).toBeLessThanOrEqual(tolerance);
}

describe('with the reference model as asset', () => {
  let mod: HandlerModule;
  let initLines: string[];

  beforeAll(async () => {
    const loaded = await loadHandler(assetEnv());
    expect(loaded.error).toBeUndefined();
    mod = loaded.mod;
    initLines = loaded.lines;
  });

  async function invoke(body: string | null, isBase64Encoded = false) {
    const { result, lines } = await captureOutput(() => mod.handler(predictEvent(body, isBase64Encoded), CONTEXT));
    return { res: result, body: JSON.parse(result.body), lines };
  }

  test('loads the model once at init: logs source, hash and timings, and emits ModelLoadTime', () => {
    const loaded = logRecords(initLines).filter((r) => r.message === 'model loaded');
    expect(loaded).toHaveLength(1);
    expect(loaded[0]).toMatchObject({
      level: 'INFO',
      service: 'predict-test',
      source: `file:${MODEL_PATH}`,
      sha256: METADATA.sha256,
      bytes: METADATA.bytes,
      inputs: ['features: float32[batch, 12]'],
      classifier: 'logits',
    });
    expect(loaded[0].sessionMs).toBeGreaterThan(0);
    const [emf] = emfRecords(initLines);
    expect(emf).toMatchObject({ service: 'predict-test', modelVersion: METADATA.version, modelSha256: METADATA.sha256 });
    expect(emf.ModelLoadTime).toBeGreaterThan(0);
    expect(emf._aws.CloudWatchMetrics).toEqual([{
      Namespace: 'ServerlessModelEndpoint', Dimensions: [['service']], Metrics: [{ Name: 'ModelLoadTime', Unit: 'Milliseconds' }],
    }]);
  });

  test('a batch gets 200 with PyTorch\'s outputs, the classes and the model version in body and header', async () => {
    const { res, body, lines } = await invoke(JSON.stringify({ inputs: EXPECTED.inputs }));
    expect(res.statusCode).toBe(200);
    expect(res.headers).toEqual({
      'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'X-Model-Version': METADATA.version, 'X-Inference-Id': body.inferenceId,
    });
    expect(body.inferenceId).toMatch(UUID_V7_PATTERN);
    expect(body.modelVersion).toBe(METADATA.version);
    expect(body.classNames).toEqual(METADATA.classNames);
    expectClose(body.outputs.logits.flat(), EXPECTED.outputs.logits.flat());
    expectClose(body.predictions.flatMap((p: any) => p.probabilities), EXPECTED.probabilities.flat());
    expect(body.predictions.map((p: any) => p.label)).toEqual(EXPECTED.whoRuleGrade.map((g) => METADATA.classNames[g]));
    // one EMF line, no other log line, for a successful request
    expect(lines).toHaveLength(1);
    const [emf] = emfRecords(lines);
    expect(emf).toMatchObject({ outcome: 'ok', statusCode: 200, requestId: 'req-123', BatchSize: EXPECTED.argmax.length, modelVersion: METADATA.version });
    expect(emf.RequestLatency).toBeGreaterThanOrEqual(emf.InferenceLatency);
    expect(emf._aws.CloudWatchMetrics[0].Metrics.map((m: any) => m.Name)).toEqual(['RequestLatency', 'InferenceLatency', 'BatchSize']);
  });

  test('one example without the batch axis, and a base64-encoded body', async () => {
    const single = await invoke(JSON.stringify({ inputs: { features: EXPECTED.inputs.features[3] } }));
    expect(single.res.statusCode).toBe(200);
    expect(single.body.predictions).toHaveLength(1);
    expect(single.body.predictions[0].label).toBe('moderate');
    const encoded = await invoke(Buffer.from(JSON.stringify({ inputs: { features: [EXPECTED.inputs.features[7]] } })).toString('base64'), true);
    expect(encoded.res.statusCode).toBe(200);
    expect(encoded.body.predictions[0].label).toBe('complete');
  });

  test.each<[string, number, string, string]>([
    ['', 400, 'BODY_MISSING', 'request body is required'],
    ['{"inputs": {"features": [[1, 2]]}}', 400, 'SHAPE_MISMATCH', 'input features must be float32[batch, 12] (a list of at most 32 examples), or [12] for one example; axis 1 must have length 12'],
    ['{"inputs": {"patientId": "P-0042-AB"}}', 400, 'UNKNOWN_INPUT', "request names an input the model does not have; the model's inputs are: features"],
    ['x'.repeat(70_000), 413, 'BODY_TOO_LARGE', 'request body is too large: at most 65536 bytes'],
  ])('a bad request (%#) gets 400 or 413 with what was expected, the code and the model version', async (text, status, code, message) => {
    const { res, body, lines } = await invoke(text);
    expect(res.statusCode).toBe(status);
    expect(res.headers!['X-Model-Version']).toBe(METADATA.version);
    expect(res.headers!['X-Inference-Id']).toBeUndefined(); // an id names a prediction
    expect(body).toEqual({ message, code, modelVersion: METADATA.version });
    const [log] = logRecords(lines);
    expect(log).toMatchObject({ level: 'INFO', message: 'request refused', code, statusCode: status });
    const [emf] = emfRecords(lines);
    expect(emf).toMatchObject({ outcome: 'refused', code, ClientErrors: 1 });
  });

  test('CORS: an allowed origin is echoed, any other is not', async () => {
    const event = (origin: string) => ({ ...predictEvent(''), headers: { origin } });
    const allowed = await captureOutput(() => mod.handler(event('https://app.example.com'), CONTEXT));
    expect(allowed.result.headers).toMatchObject({
      'Access-Control-Allow-Origin': 'https://app.example.com', 'Access-Control-Expose-Headers': 'X-Model-Version, X-Inference-Id', 'Vary': 'Origin',
    });
    const other = await captureOutput(() => mod.handler(event('https://evil.example.com'), CONTEXT));
    expect(other.result.headers!['Access-Control-Allow-Origin']).toBeUndefined();
  });

  test('nothing of the body reaches the logs or the metrics, neither on success nor on refusal', async () => {
    const secretRow = [123456.789, 20, 25, 30, 35, 45, 25, 25, 30, 30, 40, 50];
    for (const text of [
      JSON.stringify({ inputs: { features: [secretRow] } }),
      JSON.stringify({ inputs: { features: [secretRow.slice(1)] } }),
      JSON.stringify({ inputs: { features: [[...secretRow.slice(1), 'P-0042-AB']] } }),
      JSON.stringify({ inputs: { features: [secretRow], patientId: 'P-0042-AB' } }),
    ]) {
      const { lines } = await invoke(text);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).not.toContain('123456');
        expect(line).not.toContain('P-0042-AB');
      }
    }
  });

  test('the session is created once per execution environment and shared by every request', async () => {
    const first = await mod.modelReady();
    const { lines } = await captureOutput(async () => {
      for (let i = 0; i < 20; i++) {
        await mod.handler(predictEvent(JSON.stringify({ inputs: { features: EXPECTED.inputs.features[i % 10] } })), CONTEXT);
      }
    });
    expect(await mod.modelReady()).toBe(first);
    expect(logRecords(lines).filter((r) => r.message === 'model loaded')).toHaveLength(0);
    expect(emfRecords(lines).filter((r) => r.ModelLoadTime !== undefined)).toHaveLength(0);
  });

  test('fuzz: any body gets 200, 400 or 413 (never 5xx), and a refusal echoes nothing of the body', async () => {
    const finite = fc.float({ noNaN: true, noDefaultInfinity: true });
    const element = fc.oneof(fc.double(), finite, fc.integer(), fc.string(), fc.boolean(), fc.constant(null));
    const rows = fc.array(fc.array(element, { minLength: 10, maxLength: 13 }), { minLength: 0, maxLength: 40 });
    const bodies = fc.oneof(
      fc.string(),
      fc.json(),
      fc.dictionary(fc.string(), fc.jsonValue()).map((inputs) => JSON.stringify({ inputs })),
      rows.map((r) => JSON.stringify({ inputs: { features: r } })),
      fc.array(finite, { minLength: 12, maxLength: 12 }).map((r) => JSON.stringify({ inputs: { features: r } })),
    );
    const statuses = new Map<number, number>();
    await fc.assert(fc.asyncProperty(bodies, fc.boolean(), async (text, base64) => {
      const sent = base64 ? Buffer.from(text).toString('base64') : text;
      const { result } = await captureOutput(() => mod.handler(predictEvent(sent, base64), CONTEXT));
      statuses.set(result.statusCode, (statuses.get(result.statusCode) ?? 0) + 1);
      expect([200, 400, 413]).toContain(result.statusCode);
      const body = JSON.parse(result.body);
      expect(body.modelVersion).toBe(METADATA.version);
      if (result.statusCode === 200) {
        expect(body.predictions.length).toBeGreaterThanOrEqual(1);
      } else {
        expectNoLeak(body.message, text, HEARING_REFUSAL_VOCABULARY);
        expectKnownRefusal(body.message);
      }
    }), { numRuns: 1000 });
    expect(statuses.get(200)).toBeGreaterThan(50);
    expect(statuses.get(400)).toBeGreaterThan(500);
  });
});

describe('initialization failures', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sme-handler-'));
  });
  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('fails init clearly if the model does not have the configured SHA-256, and answers 500 without retrying', async () => {
    const corrupted = path.join(tmp, 'corrupted.onnx');
    const bytes = fs.readFileSync(MODEL_PATH);
    bytes[100] = 255 - bytes[100];
    fs.writeFileSync(corrupted, bytes);
    const { mod, lines, error } = await loadHandler(assetEnv({ MODEL_PATH: corrupted }));
    // (a ModelInitError of the module's own registry: compare by name)
    expect(error).toMatchObject({ name: 'ModelInitError', reason: 'INTEGRITY' });
    expect((error as Error).message).toContain(`model integrity check failed for file:${corrupted}: expected SHA-256 ${METADATA.sha256}, got `);
    const [log] = logRecords(lines).filter((r) => r.message === 'model load failed');
    expect(log).toMatchObject({ level: 'ERROR', reason: 'INTEGRITY' });
    expect(log.error).toContain('model integrity check failed');
    expect(emfRecords(lines)[0]).toMatchObject({ outcome: 'model-load-failed', reason: 'INTEGRITY', ServerErrors: 1 });

    const request = predictEvent(JSON.stringify({ inputs: EXPECTED.inputs }));
    const { result, lines: requestLines } = await captureOutput(() => mod.handler(request, CONTEXT));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({ message: 'the model is not available', modelVersion: METADATA.version });
    // an integrity failure is final: no second load attempt
    expect(logRecords(requestLines).filter((r) => r.message === 'model load failed')).toHaveLength(0);
    expect(emfRecords(requestLines)).toMatchObject([{ outcome: 'model-unavailable', ServerErrors: 1, statusCode: 500 }]);
  });

  test('fails init if the bytes are not an ONNX model (SESSION)', async () => {
    const garbage = path.join(tmp, 'garbage.onnx');
    fs.writeFileSync(garbage, 'not a model');
    const { error } = await loadHandler(assetEnv({ MODEL_PATH: garbage, MODEL_SHA256: undefined }));
    expect((error as any).reason).toBe('SESSION');
    expect((error as any).message).toMatch(new RegExp(`^onnxruntime could not create a session from file:${garbage}: `));
  });

  test('fails init if CLASS_NAMES do not fit the model\'s outputs (UNSUPPORTED_MODEL)', async () => {
    const { error } = await loadHandler(assetEnv({ CLASS_NAMES: '["a","b","c"]' }));
    expect((error as any).reason).toBe('UNSUPPORTED_MODEL');
    expect((error as any).message)
      .toBe('CLASS_NAMES has 3 classes, but no model output is a float tensor of shape [batch, 3] (outputs: logits: float32[batch, 7])');
  });

  test('a relative MODEL_PATH resolves against the handler\'s directory', async () => {
    const relative = path.relative(path.join(__dirname, '..', '..', 'src', 'serverless-model-endpoint', 'runtime'), MODEL_PATH);
    const { error, lines } = await loadHandler(assetEnv({ MODEL_PATH: relative }));
    expect(error).toBeUndefined();
    expect(logRecords(lines).find((r) => r.message === 'model loaded')?.source).toBe(`file:${MODEL_PATH}`);
  });

  test('fails at module load if the configuration is wrong, naming the variable', () => {
    const restore = setEnv({ ...assetEnv(), MODEL_VERSION: undefined });
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      expect(() => jest.isolateModules(() => require(HANDLER))).toThrow('environment variable MODEL_VERSION is required (named in every response)');
    } finally {
      restore();
    }
  });
});

/** Loads the handler with onnxruntime-node's InferenceSession.create wrapped by `wrap`. */
async function loadWithSession(wrap: (session: any) => any, onCreate: () => void = () => undefined, awaitReady = true): Promise<HandlerModule> {
  const restore = setEnv(assetEnv());
  let mod!: HandlerModule;
  try {
    jest.isolateModules(() => {
      const ort = jest.requireActual('onnxruntime-node');
      jest.doMock('onnxruntime-node', () => ({
        ...ort,
        InferenceSession: {
          create: async (...args: unknown[]) => {
            onCreate();
            return wrap(await ort.InferenceSession.create(...args));
          },
        },
      }));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(HANDLER);
    });
    if (awaitReady) await captureOutput(() => mod.modelReady());
  } finally {
    restore();
    jest.dontMock('onnxruntime-node');
  }
  return mod;
}

describe('fault injection', () => {
  test('InferenceSession.create runs once per execution environment, however many requests come, even concurrently', async () => {
    let creates = 0;
    let runs = 0;
    const mod = await loadWithSession((session) => ({
      inputMetadata: session.inputMetadata,
      outputMetadata: session.outputMetadata,
      run: (...args: unknown[]) => {
        runs++;
        return session.run(...args);
      },
    }), () => creates++, false);
    // the requests arrive while the model is still loading: they all wait for the same session
    const { result } = await captureOutput(() => Promise.all(Array.from({ length: 50 }, (_, i) =>
      mod.handler(predictEvent(JSON.stringify({ inputs: { features: EXPECTED.inputs.features[i % 10] } })), CONTEXT))));
    expect(result.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
    expect(creates).toBe(1);
    expect(runs).toBe(50);
  });

  test('a valid request whose run fails gets 500, and the log has the error, not the request', async () => {
    const mod = await loadWithSession((session) => ({
      inputMetadata: session.inputMetadata,
      outputMetadata: session.outputMetadata,
      run: async () => {
        throw new Error('injected: out of memory');
      },
    }));
    const secret = [...EXPECTED.inputs.features[0].slice(1), 0.123456789];
    const { result, lines } = await captureOutput(() => mod.handler(predictEvent(JSON.stringify({ inputs: { features: [secret] } })), CONTEXT));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({ message: 'the prediction failed', modelVersion: METADATA.version });
    expect(logRecords(lines)).toMatchObject([{ level: 'ERROR', message: 'prediction failed', error: 'Error: injected: out of memory' }]);
    expect(emfRecords(lines)).toMatchObject([{ outcome: 'failed', ServerErrors: 1 }]);
    expect(lines.join('\n')).not.toContain('123456');
  });
});
