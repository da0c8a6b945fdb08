/**
 * The reference model of test/fixtures/models (produced by make_reference_model.py) and helpers
 * shared by the ServerlessModelEndpoint tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const MODEL_DIR = path.join(__dirname, '..', 'fixtures', 'models');
export const MODEL_PATH = path.join(MODEL_DIR, 'hearing-who-grade.onnx');

export interface ModelMetadata {
  readonly name: string;
  readonly version: string;
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly opset: number;
  readonly inputs: { name: string; type: string; shape: (string | number)[] }[];
  readonly outputs: { name: string; type: string; shape: (string | number)[] }[];
  readonly classNames: string[];
  readonly features: { order: string[]; scaling: { offset: number; divisor: number } };
}

export interface Expected {
  readonly sha256: string;
  readonly tolerance: number;
  readonly thresholdsDbHl: number[][];
  readonly inputs: { features: number[][] };
  readonly outputs: { logits: number[][] };
  readonly probabilities: number[][];
  readonly argmax: number[];
  readonly whoRuleGrade: number[];
}

export const METADATA: ModelMetadata = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));
export const EXPECTED: Expected = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'expected.json'), 'utf8'));

/** The handler's environment for the fixture model shipped as an asset. */
export function assetEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    MODEL_SOURCE: 'asset',
    MODEL_PATH,
    MODEL_SHA256: METADATA.sha256,
    MODEL_VERSION: METADATA.version,
    CLASS_NAMES: JSON.stringify(METADATA.classNames),
    MAX_BODY_BYTES: '65536',
    MAX_BATCH: '32',
    POWERTOOLS_SERVICE_NAME: 'predict-test',
    ALLOWED_ORIGINS: '["https://app.example.com"]',
    ...overrides,
  };
}

/** A minimal API Gateway proxy event for POST /predict. */
export function predictEvent(body: string | null, isBase64Encoded = false): any {
  return {
    body,
    isBase64Encoded,
    httpMethod: 'POST',
    path: '/predict',
    resource: '/predict',
    headers: { 'content-type': 'application/json' },
    requestContext: { requestId: 'req-1', identity: {} },
  };
}

/** Sets process.env entries; returns a function that restores the previous values. */
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * Captures what is written to stdout and stderr (Powertools logs: INFO to stdout, WARN and ERROR
 * to stderr; EMF lines to stdout) while `fn` runs, in the order written.
 */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const chunks: string[] = [];
  const collect = (chunk: any) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(collect);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(collect);
  try {
    const result = await fn();
    return { result, lines: chunks.join('').split('\n').filter((l) => l.length > 0) };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** Distinctive tokens of a request body: strings of 3+ characters and numbers of 4+ characters. */
export function bodyTokens(body: string): { strings: string[]; numbers: string[] } {
  const strings: string[] = [];
  const numbers: string[] = [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    if (body.trim().length >= 3) strings.push(body);
    return { strings, numbers };
  }
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.trim().length >= 3) strings.push(v);
    } else if (typeof v === 'number') {
      if (String(v).length >= 4) numbers.push(String(v));
    } else if (Array.isArray(v)) {
      v.forEach(walk);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.trim().length >= 3) strings.push(k);
        walk(x);
      }
    }
  };
  walk(parsed);
  return { strings, numbers };
}

/**
 * Asserts that `message` echoes nothing of `body`: no string of the body that is not also part
 * of `vocabulary` (the texts the endpoint itself writes), and no number token of 4+ characters
 * that the vocabulary does not contain.
 */
export function expectNoLeak(message: string, body: string, vocabulary: string): void {
  const { strings, numbers } = bodyTokens(body);
  for (const s of strings) {
    if (vocabulary.includes(s)) continue;
    expect(message).not.toContain(s);
  }
  const vocabNumbers = new Set(vocabulary.split(/[^0-9.eE+-]+/));
  const messageNumbers = new Set(message.split(/[^0-9.eE+-]+/));
  for (const n of numbers) {
    if (vocabNumbers.has(n)) continue;
    expect(messageNumbers.has(n)).toBe(false);
  }
}

export type HandlerModule = typeof import('../../src/serverless-model-endpoint/runtime/predict.handler');
export const HANDLER = '../../src/serverless-model-endpoint/runtime/predict.handler';

/** Loads a fresh copy of the handler module with `env`; returns it and what it logged until the model was ready. */
export async function loadHandler(env: Record<string, string | undefined>): Promise<{ mod: HandlerModule; lines: string[]; error?: unknown }> {
  const restore = setEnv(env);
  try {
    let mod!: HandlerModule;
    let error: unknown;
    const { lines } = await captureOutput(async () => {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        mod = require(HANDLER);
      });
      try {
        await mod.modelReady();
      } catch (e) {
        error = e;
      }
      await new Promise((r) => setImmediate(r));
    });
    return { mod, lines, error };
  } finally {
    restore();
  }
}

export const parseLines = (lines: string[]) => lines.map((l) => JSON.parse(l));
export const emfRecords = (lines: string[]) => parseLines(lines).filter((r) => r._aws);
export const logRecords = (lines: string[]) => parseLines(lines).filter((r) => !r._aws);

/**
 * Every text the endpoint writes into a refusal for the reference model with MAX_BODY_BYTES 65536
 * and MAX_BATCH 32 (positions vary). A body string that occurs in these is not a leak.
 */
export const HEARING_REFUSAL_VOCABULARY = [
  'request body is required',
  'request body is too large: at most 65536 bytes',
  'request body is not valid JSON; expected {"inputs": {"features": float32[batch, 12]}}',
  'request body must be a JSON object {"inputs": {"features": float32[batch, 12]}}',
  'request body must be a JSON object with one member "inputs": {"inputs": {"features": float32[batch, 12]}}',
  "request names an input the model does not have; the model's inputs are: features",
  'input features is required: float32[batch, 12]',
  'input features must be float32[batch, 12] (a list of at most 32 examples), or [12] for one example; it has the wrong number of dimensions',
  'input features must be float32[batch, 12] (a list of at most 32 examples), or [12] for one example; axis 1 must have length 12',
  'input features must be float32[batch, 12] (a list of at most 32 examples), or [12] for one example; axis 0 must not be empty',
  'input features must be float32[batch, 12] (a list of at most 32 examples), or [12] for one example; its nested arrays do not all have the same lengths (at [0, 1])',
  'input features: at most 32 examples per request',
  'input features: element [0, 1] must be a finite number within float32 range',
].join('\n');

const normalizePositions = (m: string) => m.replace(/\[\d+(?:, \d+)*\]/g, '[#]');
const KNOWN_REFUSALS = new Set(HEARING_REFUSAL_VOCABULARY.split('\n').map(normalizePositions));

/** Asserts that a refusal is one of the fixed texts above (only positions may differ). */
export function expectKnownRefusal(message: string): void {
  expect([normalizePositions(message), KNOWN_REFUSALS.has(normalizePositions(message))]).toEqual([normalizePositions(message), true]);
}
