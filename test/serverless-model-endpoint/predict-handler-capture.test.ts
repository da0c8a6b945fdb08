/**
 * @jest-environment ./test/serverless-model-endpoint/ort-environment.js
 */
import * as fc from 'fast-check';
import { assetEnv, captureOutput, emfRecords, EXPECTED, HandlerModule, loadHandler, METADATA, parseLines, predictEvent } from './fixture';
import { PredictionCapture } from '../../src/contract/monitoring';
import { UUID_V7_PATTERN, uuidv7Time } from '../../src/serverless-model-endpoint/runtime/inference-id';

/**
 * Prediction capture in the handler as Lambda loads it (module scope once per environment), with
 * the reference model: the capture line on stdout, the sampling, the drops, and what the line
 * never holds.
 */
const CONTEXT = { awsRequestId: 'req-cap-7f3a', functionName: 'predict', functionVersion: '7', memoryLimitInMB: '1769', invokedFunctionArn: 'arn' } as any;
const captureEnv = (overrides: Record<string, string | undefined> = {}) => assetEnv({ CAPTURE_PERCENT: '100', CAPTURE_NAME: 'hearing-test', ...overrides });
const isCapture = (r: any) => r.captureVersion !== undefined;

async function load(env: Record<string, string | undefined>): Promise<HandlerModule> {
  const loaded = await loadHandler(env);
  expect(loaded.error).toBeUndefined();
  return loaded.mod;
}

async function invoke(mod: HandlerModule, body: unknown, event: any = predictEvent(JSON.stringify(body)), context: any = CONTEXT) {
  const { result, lines } = await captureOutput(() => mod.handler(event, context));
  const records = parseLines(lines);
  return { res: result, body: JSON.parse(result.body), captures: records.filter(isCapture) as PredictionCapture[], emf: emfRecords(lines), lines };
}

describe('capture at 100%', () => {
  let mod: HandlerModule;
  beforeAll(async () => {
    mod = await load(captureEnv());
  });

  test('a 200 answer writes one capture line: the contract\'s fields, the validated inputs, outputs and classes', async () => {
    const before = Date.now();
    const { res, body, captures, emf, lines } = await invoke(mod, { inputs: EXPECTED.inputs });
    expect(res.statusCode).toBe(200);
    expect(captures).toHaveLength(1);
    const [c] = captures;
    expect(Object.keys(c)).toEqual(['captureVersion', 'endpoint', 'inferenceId', 'capturedAt', 'modelVersion', 'modelSha256', 'inputs', 'outputs', 'predictedClasses']);
    expect(c).toMatchObject({
      captureVersion: '1',
      endpoint: 'hearing-test',
      inferenceId: body.inferenceId,
      modelVersion: METADATA.version,
      modelSha256: METADATA.sha256,
      inputs: EXPECTED.inputs,
      outputs: body.outputs,
    });
    expect(c.predictedClasses).toEqual(body.predictions.map((p: any) => p.label));
    expect(res.headers!['X-Inference-Id']).toBe(body.inferenceId);
    // the time of the capture is the inference id's time
    expect(new Date(c.capturedAt).getTime()).toBe(uuidv7Time(c.inferenceId));
    expect(uuidv7Time(c.inferenceId)).toBeGreaterThanOrEqual(before);
    // one capture line and one EMF record, and the line is one line (no newline inside)
    expect(lines).toHaveLength(2);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ outcome: 'ok', CapturesWritten: 1, CapturesDropped: 0 });
    expect(emf[0]._aws.CloudWatchMetrics[0].Metrics.map((m: any) => m.Name))
      .toEqual(['RequestLatency', 'InferenceLatency', 'BatchSize', 'CapturesWritten', 'CapturesDropped']);
  });

  test('one example without the batch axis is captured in batch form (a list of one)', async () => {
    const row = EXPECTED.inputs.features[3];
    const { captures } = await invoke(mod, { inputs: { features: row } });
    expect(captures[0].inputs).toEqual({ features: [row] });
    expect(captures[0].predictedClasses).toEqual(['moderate']);
  });

  test('refusals and faults are not captured, and get no inference id', async () => {
    const { res, captures, body } = await invoke(mod, { inputs: { features: [[1, 2]] } });
    expect(res.statusCode).toBe(400);
    expect(captures).toEqual([]);
    expect(body.inferenceId).toBeUndefined();
  });

  test('inference ids are unique UUID v7s, in time order across milliseconds', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const { body } = await invoke(mod, { inputs: { features: EXPECTED.inputs.features[i % 10] } });
      ids.push(body.inferenceId);
    }
    expect(new Set(ids).size).toBe(30);
    for (const id of ids) expect(id).toMatch(UUID_V7_PATTERN);
    const times = ids.map(uuidv7Time);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  test('property: no request id, caller identity, header or context value reaches a capture line', async () => {
    // Distinctive tokens (never a number or a class name the capture may hold by chance).
    const token = fc.stringMatching(/^[A-Za-z]{6,12}$/).map((s) => `tok${s}Zq`);
    const headers = fc.dictionary(fc.constantFrom('Authorization', 'X-Forwarded-For', 'User-Agent', 'Cookie', 'X-Amzn-Trace-Id', 'origin', 'X-Api-Key'), token);
    const scenario = fc.record({
      headers, requestId: token, sourceIp: token, user: token, claims: token, awsRequestId: token, path: token, query: token,
    });
    await fc.assert(fc.asyncProperty(scenario, fc.integer({ min: 0, max: 9 }), async (s, row) => {
      const event = {
        ...predictEvent(JSON.stringify({ inputs: { features: [EXPECTED.inputs.features[row]] } })),
        headers: { 'content-type': 'application/json', ...s.headers },
        multiValueHeaders: Object.fromEntries(Object.entries(s.headers).map(([k, v]) => [k, [v]])),
        queryStringParameters: { q: s.query },
        path: `/predict/${s.path}`,
        requestContext: {
          requestId: s.requestId,
          identity: { sourceIp: s.sourceIp, user: s.user, userArn: `arn:aws:iam::111111111111:user/${s.user}`, cognitoIdentityId: s.user },
          authorizer: { claims: { sub: s.claims, email: `${s.claims}@example.com` } },
        },
      };
      const { res, captures, lines } = await invoke(mod, undefined, event, { ...CONTEXT, awsRequestId: s.awsRequestId });
      expect(res.statusCode).toBe(200);
      expect(captures).toHaveLength(1);
      const line = lines.find((l) => l.includes('"captureVersion"'))!;
      for (const value of [...Object.values(s.headers), s.requestId, s.sourceIp, s.user, s.claims, s.awsRequestId, s.path, s.query, 'req-cap-7f3a']) {
        expect(line).not.toContain(value);
      }
      expect(line).not.toMatch(/requestId|sourceIp|header|identity|authorizer/i);
    }), { numRuns: 60 });
  });
});

describe('sampling', () => {
  afterEach(() => jest.restoreAllMocks());

  test('CAPTURE_PERCENT=25 captures a request when Math.random() < 0.25 only; the others write only their usual record', async () => {
    const mod = await load(captureEnv({ CAPTURE_PERCENT: '25' }));
    const draws = [0.1, 0.3, 0.2499, 0.25, 0.9, 0];
    const random = jest.spyOn(Math, 'random');
    const captured: boolean[] = [];
    for (const d of draws) {
      random.mockReturnValueOnce(d);
      const { captures, emf } = await invoke(mod, { inputs: { features: [EXPECTED.inputs.features[0]] } });
      captured.push(captures.length === 1);
      expect(emf).toHaveLength(1);
      expect(emf[0].CapturesWritten).toBe(captures.length === 1 ? 1 : undefined);
    }
    expect(captured).toEqual([true, false, true, false, false, true]);
  });

  test('about the configured share over many requests (real Math.random)', async () => {
    const mod = await load(captureEnv({ CAPTURE_PERCENT: '50' }));
    let n = 0;
    for (let i = 0; i < 200; i++) {
      const { captures } = await invoke(mod, { inputs: { features: [EXPECTED.inputs.features[i % 10]] } });
      n += captures.length;
    }
    // binomial(200, 0.5): outside 60..140 with probability < 1e-8
    expect(n).toBeGreaterThan(60);
    expect(n).toBeLessThan(140);
  });

  test.each([['0'], [undefined], ['']])('CAPTURE_PERCENT=%p: capture is off, every answer still has its inference id', async (percent) => {
    const mod = await load(assetEnv({ CAPTURE_PERCENT: percent, CAPTURE_NAME: undefined }));
    const { body, captures, emf } = await invoke(mod, { inputs: EXPECTED.inputs });
    expect(body.inferenceId).toMatch(UUID_V7_PATTERN);
    expect(captures).toEqual([]);
    expect(emf[0]._aws.CloudWatchMetrics[0].Metrics.map((m: any) => m.Name)).toEqual(['RequestLatency', 'InferenceLatency', 'BatchSize']);
  });
});

describe('a capture never fails the prediction', () => {
  test('a capture over CAPTURE_MAX_BYTES is not written, counted with its reason, and the answer is 200', async () => {
    const mod = await load(captureEnv({ CAPTURE_MAX_BYTES: '2048' }));
    const small = await invoke(mod, { inputs: { features: [EXPECTED.inputs.features[0]] } });
    expect(small.captures).toHaveLength(1);
    const { res, body, captures, emf } = await invoke(mod, { inputs: EXPECTED.inputs });
    expect(res.statusCode).toBe(200);
    expect(body.predictions).toHaveLength(EXPECTED.inputs.features.length);
    expect(captures).toEqual([]);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ outcome: 'ok', statusCode: 200, CapturesWritten: 0, CapturesDropped: 1, captureDropReason: 'TOO_LARGE' });
    expect(emf[0].captureBytes).toBeGreaterThan(2048);
  });

  test('a capture write that throws is caught and counted; the answer is 200 with its inference id', async () => {
    const mod = await load(captureEnv());
    const out: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
      const text = String(chunk);
      if (text.includes('"captureVersion"')) throw new Error('EPIPE: injected');
      out.push(text);
      return true;
    });
    try {
      const res = await mod.handler(predictEvent(JSON.stringify({ inputs: EXPECTED.inputs })), CONTEXT);
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body).inferenceId).toMatch(UUID_V7_PATTERN);
    } finally {
      write.mockRestore();
    }
    const emf = emfRecords(out.join('').split('\n').filter(Boolean));
    expect(emf).toMatchObject([{ outcome: 'ok', CapturesWritten: 0, CapturesDropped: 1, captureDropReason: 'CAPTURE_ERROR' }]);
  });

  test('a broken random source is a counted drop too, not a failure', async () => {
    const mod = await load(captureEnv({ CAPTURE_PERCENT: '10' }));
    const random = jest.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('injected');
    });
    try {
      const { res, emf } = await invoke(mod, { inputs: EXPECTED.inputs });
      expect(res.statusCode).toBe(200);
      expect(emf[0]).toMatchObject({ CapturesDropped: 1, captureDropReason: 'CAPTURE_ERROR' });
    } finally {
      random.mockRestore();
    }
  });
});

test('a capture configuration error fails init, naming the variable', async () => {
  const { error } = await loadHandler(captureEnv({ CAPTURE_NAME: undefined })).catch((e) => ({ error: e }));
  expect(String((error as Error)?.message ?? error)).toContain('environment variable CAPTURE_NAME is required');
});
