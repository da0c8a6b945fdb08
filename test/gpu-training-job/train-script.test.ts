/**
 * @jest-environment ./test/serverless-model-endpoint/ort-environment.js
 *
 * The example training script (examples/training/hearing-who-grade/train.py) run for real in
 * local mode with PyTorch on the CPU: a seeded synthetic hearing dataset as augmented-manifest
 * channels, metrics scraped with the script's metric definitions, the ONNX model it writes run in
 * onnxruntime-node, the drift baseline it writes beside it read with the library's parseBaseline,
 * resume from checkpoints (after a finished run and after SIGTERM), failures.
 *
 * Needs PyTorch for TRAINING_PYTHON (default /usr/bin/python3, Debian's interpreter):
 *   apt-get update && apt-get install -y --no-install-recommends python3-torch python3-onnx
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  Audiogram, CLASS_NAMES, METRIC_DEFINITIONS, TRAIN_SCRIPT, features, syntheticAudiograms, whoGrade, writeChannel,
} from '../../examples/training/hearing-dataset';
import { LocalTrainingOptions, LocalTrainingResult, runLocalTraining } from '../../examples/training/local-training';
import { computeBaseline, DriftBaseline, parseBaseline } from '../../src/model-monitor/runtime/logic';

const PYTHON = process.env.TRAINING_PYTHON ?? '/usr/bin/python3';
const INSTALL = 'apt-get update && apt-get install -y --no-install-recommends python3-torch python3-onnx';
/** Fixed, small and single-threaded: deterministic, and a few seconds per run on 2 cores. */
const HYPERPARAMETERS = { 'epochs': '30', 'lr': '0.01', 'batch-size': '32', 'hidden-units': '32,32', 'seed': '7', 'num-threads': '1' };

let tmp: string;
let dataset: { train: string; validation: string };
let trainAudiograms: Audiogram[];

function requireTorch(): void {
  // find_spec, not import: the check costs milliseconds instead of torch's import time
  const r = spawnSync(PYTHON, ['-c', 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("torch") else "No module named torch")'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    throw new Error(`PyTorch is required by the local training tests and ${PYTHON} cannot import torch `
      + `(${(r.error?.message ?? r.stderr ?? '').trim().split('\n').pop()}). Install Debian's PyTorch: ${INSTALL} `
      + '(or point TRAINING_PYTHON at an interpreter that has torch).');
  }
}

beforeAll(() => {
  requireTorch();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'train-script-test-'));
  dataset = { train: path.join(tmp, 'dataset', 'train'), validation: path.join(tmp, 'dataset', 'validation') };
  // every way a manifest line can carry its record, in turn
  trainAudiograms = writeChannel(dataset.train, { seed: 11, count: 2000, forms: ['relative-ref', 'file-ref', 's3-ref', 'inline-source', 'inline-features'] });
  writeChannel(dataset.validation, { seed: 12, count: 400, forms: ['inline-source', 'relative-ref'] });
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function train(overrides: Partial<LocalTrainingOptions> = {}): Promise<LocalTrainingResult> {
  return runLocalTraining({
    command: [PYTHON, TRAIN_SCRIPT],
    channels: dataset,
    hyperparameters: HYPERPARAMETERS,
    metricDefinitions: METRIC_DEFINITIONS,
    env: { OMP_NUM_THREADS: '1' },
    numGpus: 0,
    onLog: () => undefined,
    ...overrides,
  });
}

function expectSuccess(result: LocalTrainingResult): void {
  if (result.exitCode !== 0) {
    throw new Error(`train.py exited with ${result.exitCode} (${result.failureReason}):\n${result.logs.slice(-30).join('\n')}`);
  }
}

const epochLines = (r: LocalTrainingResult) => r.logs.filter((l) => /^epoch=\d+ /.test(l));

const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

/** baseline.json of a run, checked against model.json and parseBaseline. */
function readBaseline(r: LocalTrainingResult): DriftBaseline {
  const bytes = fs.readFileSync(path.join(r.modelDir, 'baseline.json'));
  const meta = JSON.parse(fs.readFileSync(path.join(r.modelDir, 'model.json'), 'utf8'));
  expect(meta.baseline).toEqual({ file: 'baseline.json', sha256: sha256(bytes) });
  const baseline = parseBaseline(JSON.parse(bytes.toString('utf8')));
  expect(baseline.modelSha256).toBe(sha256(fs.readFileSync(path.join(r.modelDir, 'model.onnx'))));
  expect(baseline.modelSha256).toBe(meta.sha256);
  // one line of canonical JSON: the bytes the GpuTrainingJob's publisher writes for the document it reads
  expect(JSON.stringify(baseline) + '\n').toBe(bytes.toString('utf8'));
  return baseline;
}

let result: LocalTrainingResult;

describe('a training run', () => {
  beforeAll(async () => {
    result = await train({ workDir: path.join(tmp, 'run-1') });
    // eslint-disable-next-line no-console
    console.log(`train.py, 30 epochs on 2000 records: ${result.durationMs} ms; validation accuracy ${result.metrics['validation:accuracy']?.last}`);
  });

  test('succeeds and logs one metric line per epoch that the metric definitions parse', () => {
    expectSuccess(result);
    expect(result.failureReason).toBeUndefined();
    expect(result.logs).toContain('records: train=2000 validation=400');
    expect(Object.keys(result.metrics).sort()).toEqual(METRIC_DEFINITIONS.map((d) => d.name).sort());
    expect(result.metrics.epoch.series).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    for (const d of METRIC_DEFINITIONS) expect(result.metrics[d.name].series).toHaveLength(30);
    const history = JSON.parse(fs.readFileSync(path.join(result.outputDataDir, 'metrics.json'), 'utf8')).history;
    expect(history).toHaveLength(30);
    expect(result.metrics['validation:accuracy'].last).toBeCloseTo(history[29].validation_accuracy, 4);
    expect(result.metrics['train:loss'].last).toBeLessThan(result.metrics['train:loss'].series[0]);
  });

  test('reaches a validation accuracy above 0.85 on the WHO-grade labels', () => {
    expect(result.metrics['validation:accuracy'].last).toBeGreaterThan(0.85);
  });

  test('writes model.onnx and model.json that describe each other', () => {
    const onnx = fs.readFileSync(path.join(result.modelDir, 'model.onnx'));
    const meta = JSON.parse(fs.readFileSync(path.join(result.modelDir, 'model.json'), 'utf8'));
    expect(meta).toEqual(expect.objectContaining({
      name: 'hearing-who-grade',
      file: 'model.onnx',
      opset: 17,
      bytes: onnx.length,
      sha256: crypto.createHash('sha256').update(onnx).digest('hex'),
      inputs: [{ name: 'features', type: 'float32', shape: ['batch', 12] }],
      outputs: [{ name: 'logits', type: 'float32', shape: ['batch', 7] }],
      classNames: CLASS_NAMES,
    }));
    expect(meta.version).toMatch(/^hearing-who-grade@local-/);
    expect(meta.features.order).toEqual(['left', 'right'].flatMap((ear) => ['250', '500', '1000', '2000', '4000', '8000'].map((f) => `${ear}.${f}`)));
    expect(meta.features.scaling).toEqual(expect.objectContaining({ offset: 50, divisor: 50 }));
  });

  test('writes baseline.json beside the model: its training split as computeBaseline sees it, the class mix of both splits, the validation accuracy', () => {
    expectSuccess(result);
    const baseline = readBaseline(result);
    const order = JSON.parse(fs.readFileSync(path.join(result.modelDir, 'model.json'), 'utf8')).features.order;
    expect(baseline.rowCount).toBe(2000);
    // the features part is byte for byte the library's, from the float64 features a client sends (not float32-rounded)
    const expected = computeBaseline({
      modelSha256: baseline.modelSha256, features: order.map((name: string) => ({ name })), rows: trainAudiograms.map(features), predictions: [],
    });
    expect(JSON.stringify(baseline.features)).toBe(JSON.stringify(expected.features));
    expect(baseline.features[0].numeric!.sample).toHaveLength(1000);
    const history = JSON.parse(fs.readFileSync(path.join(result.outputDataDir, 'metrics.json'), 'utf8')).history;
    // the class mix over the validation and training splits, the accuracy over the validation split
    expect(baseline.prediction).toEqual(expect.objectContaining({ count: 2400, labeled: 400, accuracy: history[29].validation_accuracy }));
    expect(baseline.prediction.categories.every((c) => CLASS_NAMES.includes(c.value))).toBe(true);
    expect(result.logs).toContain('wrote baseline.json: 12 features of 2000 training records, accuracy on the validation split (400), class mix over 2400 predictions');
  });

  test('the ONNX model runs in onnxruntime-node with a dynamic batch and mostly agrees with the WHO rule', async () => {
    const session = await ort.InferenceSession.create(path.join(result.modelDir, 'model.onnx'));
    expect(session.inputNames).toEqual(['features']);
    expect(session.outputNames).toEqual(['logits']);
    const audiograms = syntheticAudiograms(13, 1000);
    const data = Float32Array.from(audiograms.flatMap(features));
    const out = await session.run({ features: new ort.Tensor('float32', data, [audiograms.length, 12]) });
    expect(out.logits.dims).toEqual([audiograms.length, 7]);
    const logits = out.logits.data as Float32Array;
    let agree = 0;
    audiograms.forEach((a, i) => {
      const row = Array.from(logits.subarray(i * 7, i * 7 + 7));
      if (row.indexOf(Math.max(...row)) === whoGrade(a)) agree++;
    });
    expect(agree / audiograms.length).toBeGreaterThan(0.85);
    const one = await session.run({ features: new ort.Tensor('float32', data.subarray(0, 12), [1, 12]) });
    expect(one.logits.dims).toEqual([1, 7]);
    expect(Array.from(one.logits.data as Float32Array)).toEqual(Array.from(logits.subarray(0, 7)).map((v) => expect.closeTo(v, 5)));
    await session.release();
  });

  test('checkpoints every epoch and keeps the newest two', () => {
    expect(fs.readdirSync(result.checkpointDir).sort()).toEqual(['checkpoint-epoch-0029.pt', 'checkpoint-epoch-0030.pt']);
  });
});

describe('resume', () => {
  test('a second run with more epochs and the same checkpoints continues at the next epoch, as if never stopped', async () => {
    const hps = { ...HYPERPARAMETERS, epochs: '5' };
    const checkpointDir = path.join(tmp, 'resume-checkpoints');
    const first = await train({ hyperparameters: { ...hps, epochs: '3' }, workDir: path.join(tmp, 'resume-a'), checkpointDir });
    const second = await train({ hyperparameters: hps, workDir: path.join(tmp, 'resume-b'), checkpointDir });
    // no schedule depends on the number of epochs: the first 5 epochs of the 30-epoch run are an
    // uninterrupted 5-epoch run
    const straight = result;
    [first, second, straight].forEach(expectSuccess);
    expect(first.metrics.epoch.series).toEqual([1, 2, 3]);
    expect(second.logs).toContain('resuming from checkpoint checkpoint-epoch-0003.pt: completed epochs 3, next epoch 4');
    expect(second.metrics.epoch.series).toEqual([4, 5]);
    // restored weights, optimizer state and shuffling: the same numbers as an uninterrupted run
    expect(epochLines(second)).toEqual(epochLines(straight).slice(3, 5));
    const history = JSON.parse(fs.readFileSync(path.join(second.outputDataDir, 'metrics.json'), 'utf8')).history;
    expect(history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2, 3, 4, 5]);
  });

  test('SIGTERM checkpoints and exits 143; the next run resumes from that checkpoint', async () => {
    const controller = new AbortController();
    const checkpointDir = path.join(tmp, 'sigterm-checkpoints');
    const stopped = await train({
      hyperparameters: { ...HYPERPARAMETERS, epochs: '100000' },
      workDir: path.join(tmp, 'sigterm-a'),
      checkpointDir,
      signal: controller.signal,
      onLog: (line) => {
        if (line.startsWith('epoch=2 ')) controller.abort();
      },
    });
    expect(stopped).toEqual(expect.objectContaining({ exitCode: 143, stopped: true }));
    expect(stopped.logs).toContain('SIGTERM received: checkpointing and stopping');
    expect(stopped.failureReason).toBeUndefined();
    const last = stopped.metrics.epoch.last;
    const during = stopped.logs.map((l) => /^stopped during epoch (\d+)/.exec(l)).find((m) => m);
    const next = during ? Number(during[1]) : last + 1;
    expect(next).toBe(last + 1);
    expect(fs.existsSync(path.join(stopped.modelDir, 'model.onnx'))).toBe(false);

    const resumed = await train({ hyperparameters: { ...HYPERPARAMETERS, epochs: String(next) }, workDir: path.join(tmp, 'sigterm-b'), checkpointDir });
    expectSuccess(resumed);
    expect(resumed.logs).toContainEqual(expect.stringMatching(new RegExp(`^resuming from checkpoint checkpoint-epoch-\\d{4}(-interrupted)?\\.pt: completed epochs ${last}, next epoch ${next}$`)));
    expect(resumed.metrics.epoch.series).toEqual([next]);
    expect(fs.existsSync(path.join(resumed.modelDir, 'model.onnx'))).toBe(true);
  });
});

test('without a validation channel the baseline\'s predictions are those on the training split', async () => {
  const r = await train({ channels: { train: dataset.train }, hyperparameters: { ...HYPERPARAMETERS, epochs: '1' }, workDir: path.join(tmp, 'no-validation') });
  expectSuccess(r);
  const baseline = readBaseline(r);
  expect(baseline.prediction).toEqual(expect.objectContaining({ count: 2000, labeled: 2000 }));
  // the accuracy of the model's predictions on the training split, recomputed with onnxruntime-node
  const session = await ort.InferenceSession.create(path.join(r.modelDir, 'model.onnx'));
  const out = await session.run({ features: new ort.Tensor('float32', Float32Array.from(trainAudiograms.flatMap(features)), [2000, 12]) });
  await session.release();
  const logits = out.logits.data as Float32Array;
  const right = trainAudiograms.filter((a, i) => {
    const row = Array.from(logits.subarray(i * 7, i * 7 + 7));
    return row.indexOf(Math.max(...row)) === whoGrade(a);
  }).length;
  expect(Math.abs(baseline.prediction.accuracy! - right / 2000)).toBeLessThanOrEqual(2 / 2000);
});

describe('failures', () => {
  // four short runs that fail before training: started together (each mostly imports torch)
  const runs: Record<string, Promise<LocalTrainingResult>> = {};
  const run = (name: string, options: () => Partial<LocalTrainingOptions>) => {
    runs[name] ??= train({ ...options(), workDir: path.join(tmp, `fail-${name}`) });
    return runs[name];
  };
  const empty = () => {
    const dir = path.join(tmp, 'empty-train');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'dataset.manifest'), '\n');
    return { channels: { train: dir, validation: dataset.validation } };
  };
  const record = {
    thresholds: {
      left: { 250: 15, 500: 20, 1000: 25, 2000: 35, 4000: 50, 8000: 60 },
      right: { 250: 10, 500: 15, 1000: 20, 2000: 30, 4000: 45, 8000: 555 },
    },
  };
  const bad = () => {
    const dir = path.join(tmp, 'bad-train');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'dataset.manifest'), [
      JSON.stringify({ 'source': JSON.stringify({ ...record, thresholds: { ...record.thresholds, right: record.thresholds.left } }), 'who-grade': 1 }),
      JSON.stringify({ 'source': JSON.stringify(record), 'who-grade': 1, 'subject-pseudonym': 'hmac:secret-subject' }),
    ].join('\n'));
    return { channels: { train: dir } };
  };
  const missing = () => ({ channels: { validation: dataset.validation } });
  const notANumber = () => ({ hyperparameters: { ...HYPERPARAMETERS, epochs: 'ten' } });
  beforeAll(async () => {
    await Promise.all([run('empty', empty), run('bad', bad), run('missing', missing), run('hp', notANumber)]);
  });

  test('fails if a channel is empty: the reason in output/failure, exit code 1', async () => {
    const r = await run('empty', empty);
    expect(r.exitCode).toBe(1);
    expect(r.failureReason).toBe('channel train has no records: its manifest files (1) hold no lines');
    expect(fs.readFileSync(path.join(r.outputDir, 'failure'), 'utf8')).toBe(r.failureReason);
    expect(fs.existsSync(path.join(r.modelDir, 'model.onnx'))).toBe(false);
  });

  test('fails if a record is invalid: the reason names the line, never the record\'s values', async () => {
    const r = await run('bad', bad);
    expect(r.exitCode).toBe(1);
    expect(r.failureReason).toBe('channel train, dataset.manifest line 2: thresholds.right.8000 is missing or outside -10..120 dB HL');
    expect(r.logs.join('\n')).not.toMatch(/555|secret-subject/);
  });

  test('fails if the training channel is missing', async () => {
    const r = await run('missing', missing);
    expect(r.exitCode).toBe(1);
    expect(r.failureReason).toMatch(/^channel train is missing: .*input\/data\/train is not a directory \(the training channel is named train or training\)$/);
  });

  test('fails if a hyperparameter is not a number', async () => {
    const r = await run('hp', notANumber);
    expect(r.exitCode).toBe(1);
    expect(r.failureReason).toBe("hyperparameter epochs must be an integer, got 'ten'");
  });
});
