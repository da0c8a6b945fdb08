/**
 * The labelers of `LabelerSpec`s as the labeling handler runs them: rules in-process (compiled
 * once), user functions and model endpoints through Lambda Invoke (RequestResponse).
 *
 * What a remote labeler can do to a record's outcome:
 * - a bad answer (not JSON, not the labeler contract, a 4xx from the endpoint, a FunctionError)
 *   is an abstain vote with a reason from a fixed vocabulary (never text from the answer);
 * - an Invoke that throws (throttling, a 5xx of the Lambda service, a missing function or
 *   permission) and a 5xx / 429 answer of the model endpoint throw `LabelerUnavailable`: the
 *   message fails and SQS delivers it again (then to the DLQ).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { LabelerSpec } from './contract';
import { compilePath, getPath, isObject, JsonObject } from './logic/json';
import { compileRulesLabeler, Labeler, LabelerOutput } from './logic/labeling';

/** A remote labeler could not be asked; the message is retried. Its message carries no record value. */
export class LabelerUnavailable extends Error {
  constructor(public readonly labeler: string, public readonly reason: string) {
    super(`labeler ${labeler} is unavailable (${reason})`);
    this.name = 'LabelerUnavailable';
  }
}

/** Abstain reasons a labeler may give itself; anything else is written as `unspecified`. */
const SAFE_REASON = /^[A-Za-z0-9:._-]{1,64}$/;
/** Largest answer read from a labeler. */
const MAX_ANSWER_BYTES = 65536;

const abstain = (reason: string): LabelerOutput => ({ kind: 'abstain', reason });

/** Parse a user function's answer per the labeler contract. */
export function readLabelerAnswer(payload: unknown): LabelerOutput {
  if (!isObject(payload)) return abstain('invalid-output');
  if (payload.kind === 'label') {
    const { className, confidence } = payload;
    if (typeof className !== 'string' || typeof confidence !== 'number' || !Number.isFinite(confidence)) return abstain('invalid-output');
    // Class membership and the confidence range are checked by the combiner (an `invalid-output` vote).
    return { kind: 'label', className, confidence };
  }
  if (payload.kind === 'abstain') {
    return abstain(typeof payload.reason === 'string' && SAFE_REASON.test(payload.reason) ? payload.reason : 'unspecified');
  }
  return abstain('invalid-output');
}

/** Map a model endpoint's answer (an API Gateway proxy result with a `PredictResponseBody`). */
export function readModelAnswer(payload: unknown, labeler: string, classMap: Record<string, string> | undefined): LabelerOutput {
  if (!isObject(payload) || typeof payload.statusCode !== 'number') return abstain('invalid-output');
  const status = payload.statusCode;
  if (status === 429 || status >= 500) throw new LabelerUnavailable(labeler, `endpoint answered ${status}`);
  if (status !== 200) return abstain('model-refused-input');
  if (typeof payload.body !== 'string' || payload.body.length > MAX_ANSWER_BYTES) return abstain('invalid-output');
  let body: unknown;
  try {
    body = JSON.parse(payload.body);
  } catch {
    return abstain('invalid-output');
  }
  const predictions = isObject(body) ? body.predictions : undefined;
  const p = Array.isArray(predictions) ? predictions[0] : undefined;
  if (!isObject(p) || typeof p.label !== 'string' || !Array.isArray(p.probabilities)) return abstain('invalid-output');
  const probabilities = p.probabilities.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  if (probabilities.length === 0 || probabilities.length !== p.probabilities.length) return abstain('invalid-output');
  const confidence = typeof p.index === 'number' && Number.isInteger(p.index) && p.index >= 0 && p.index < probabilities.length
    ? probabilities[p.index] : Math.max(...probabilities);
  const className = classMap ? (Object.prototype.hasOwnProperty.call(classMap, p.label) ? classMap[p.label] : undefined) : p.label;
  if (className === undefined) return abstain('unmapped-class');
  return { kind: 'label', className, confidence: Math.min(1, Math.max(0, confidence)) };
}

function decodePayload(payload: Uint8Array | undefined): unknown {
  if (!payload || payload.byteLength === 0 || payload.byteLength > MAX_ANSWER_BYTES) return undefined;
  try {
    return JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return undefined;
  }
}

async function invoke(
  lambda: LambdaClient, labeler: string, functionArn: string, payload: unknown,
): Promise<{ functionError: boolean; answer: unknown }> {
  let res;
  try {
    res = await lambda.send(new InvokeCommand({
      FunctionName: functionArn,
      InvocationType: 'RequestResponse',
      Payload: Buffer.from(JSON.stringify(payload), 'utf8'),
    }));
  } catch (e) {
    throw new LabelerUnavailable(labeler, e instanceof Error ? e.name : 'invoke failed');
  }
  if (res.FunctionError) return { functionError: true, answer: undefined };
  return { functionError: false, answer: decodePayload(res.Payload) };
}

/** Build the labelers once per execution environment. Throws for an invalid rules config. */
export function buildLabelers(specs: readonly LabelerSpec[], lambda: LambdaClient): Labeler[] {
  return specs.map((spec): Labeler => {
    switch (spec.kind) {
      case 'rules':
        return compileRulesLabeler(spec.rules);
      case 'function': {
        const ref = `${spec.id}@${spec.version}`;
        return {
          id: spec.id,
          version: spec.version,
          async label({ recordId, record }) {
            const { functionError, answer } = await invoke(lambda, ref, spec.functionArn, { recordId, record });
            return functionError ? abstain('function-error') : readLabelerAnswer(answer);
          },
        };
      }
      case 'model': {
        const ref = `${spec.id}@${spec.version}`;
        const features = spec.features.map((f) => compilePath(f, `model labeler ${JSON.stringify(spec.id)} features`));
        return {
          id: spec.id,
          version: spec.version,
          async label({ record }) {
            const row: number[] = [];
            for (const f of features) {
              const v = getPath(record as JsonObject, f);
              if (typeof v !== 'number' || !Number.isFinite(v)) return abstain('missing-input');
              row.push(v);
            }
            const event = {
              httpMethod: 'POST',
              path: '/predict',
              resource: '/predict',
              headers: { 'content-type': 'application/json' },
              multiValueHeaders: {},
              queryStringParameters: null,
              pathParameters: null,
              isBase64Encoded: false,
              body: JSON.stringify({ inputs: { [spec.inputName]: [row] } }),
              requestContext: { httpMethod: 'POST', path: '/predict', resourcePath: '/predict', identity: {}, stage: 'labeling-pipeline' },
            };
            const { functionError, answer } = await invoke(lambda, ref, spec.functionArn, event);
            return functionError ? abstain('function-error') : readModelAnswer(answer, ref, spec.classMap);
          },
        };
      }
      default:
        throw new Error(`labeler kind ${JSON.stringify((spec as { kind?: unknown }).kind)} is not one of rules, function, model`);
    }
  });
}
