/**
 * The local-mode runner with small Node.js scripts as the training command (no PyTorch needed):
 * SageMaker's layout and environment, metric scraping, failure reasons, stops, validation.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fc from 'fast-check';
import { runLocalTraining, scrapeMetrics } from '../../examples/training/local-training';

const NODE = process.execPath;
let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'local-training-test-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function channel(name: string, files: Record<string, string> = { 'dataset.manifest': '{"source":"{}"}\n' }): string {
  const dir = path.join(tmp, 'host', name);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A Node.js "training script" given as source text. */
function script(source: string): string[] {
  const file = path.join(tmp, `script-${Math.random().toString(36).slice(2)}.js`);
  fs.writeFileSync(file, source);
  return [NODE, file];
}

const quiet = { onLog: () => undefined };

describe('layout and environment', () => {
  test('creates the SageMaker layout under workDir and sets the SM_* variables into it', async () => {
    const workDir = path.join(tmp, 'opt-ml');
    const dump = script(`
      const fs = require('fs'), path = require('path');
      const root = process.env.OPT_ML;
      const files = [];
      const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name); files.push(path.relative(root, p) + (e.isDirectory() ? '/' : '')); if (e.isDirectory()) walk(p); } };
      walk(root);
      console.log(JSON.stringify({ env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('SM_') || ['OPT_ML', 'TRAINING_JOB_NAME', 'PYTHONUNBUFFERED', 'EXTRA'].includes(k))), files, cwd: process.cwd() }));
    `);
    const train = channel('train', { 'dataset.manifest': 'line\n', 'records/a.json': '{}' });
    const validation = channel('validation');
    const result = await runLocalTraining({
      command: dump,
      channels: { train, validation },
      hyperparameters: { 'epochs': '3', 'batch-size': '32' },
      workDir,
      env: { EXTRA: 'yes' },
      numGpus: 0,
      jobName: 'job-1',
      cwd: tmp,
      ...quiet,
    });
    expect(result.exitCode).toBe(0);
    const { env, files, cwd } = JSON.parse(result.logs[0]);
    expect(cwd).toBe(fs.realpathSync(tmp));
    expect(files).toEqual(expect.arrayContaining([
      'input/', 'input/config/', 'input/config/hyperparameters.json', 'input/config/inputdataconfig.json',
      'input/config/resourceconfig.json', 'input/data/', 'input/data/train/', 'input/data/train/dataset.manifest',
      'input/data/train/records/a.json', 'input/data/validation/dataset.manifest', 'model/', 'output/',
      'output/data/', 'checkpoints/',
    ]));
    expect(env).toEqual(expect.objectContaining({
      OPT_ML: workDir,
      TRAINING_JOB_NAME: 'job-1',
      PYTHONUNBUFFERED: '1',
      EXTRA: 'yes',
      SM_MODEL_DIR: path.join(workDir, 'model'),
      SM_INPUT_DIR: path.join(workDir, 'input'),
      SM_INPUT_CONFIG_DIR: path.join(workDir, 'input', 'config'),
      SM_OUTPUT_DIR: path.join(workDir, 'output'),
      SM_OUTPUT_DATA_DIR: path.join(workDir, 'output', 'data'),
      SM_CHECKPOINT_DIR: path.join(workDir, 'checkpoints'),
      SM_CHANNELS: '["train","validation"]',
      SM_CHANNEL_TRAIN: path.join(workDir, 'input', 'data', 'train'),
      SM_CHANNEL_VALIDATION: path.join(workDir, 'input', 'data', 'validation'),
      SM_HPS: '{"epochs":"3","batch-size":"32"}',
      SM_HP_EPOCHS: '3',
      SM_HP_BATCH_SIZE: '32',
      SM_CURRENT_HOST: 'algo-1',
      SM_HOSTS: '["algo-1"]',
      SM_NUM_GPUS: '0',
      SM_NUM_CPUS: String(os.cpus().length),
      SM_USER_ARGS: '["--epochs","3","--batch-size","32"]',
    }));
    expect(JSON.parse(env.SM_TRAINING_ENV)).toEqual(expect.objectContaining({ job_name: 'job-1', num_gpus: 0, hyperparameters: { 'epochs': '3', 'batch-size': '32' } }));
    const config = (f: string) => JSON.parse(fs.readFileSync(path.join(workDir, 'input', 'config', f), 'utf8'));
    expect(config('hyperparameters.json')).toEqual({ 'epochs': '3', 'batch-size': '32' });
    expect(config('inputdataconfig.json')).toEqual({
      train: { TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
      validation: { TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
    });
    expect(config('resourceconfig.json')).toEqual(expect.objectContaining({ current_host: 'algo-1', hosts: ['algo-1'] }));
    expect(result).toEqual(expect.objectContaining({
      workDir,
      modelDir: path.join(workDir, 'model'),
      outputDir: path.join(workDir, 'output'),
      outputDataDir: path.join(workDir, 'output', 'data'),
      checkpointDir: path.join(workDir, 'checkpoints'),
      timedOut: false,
      stopped: false,
    }));
    expect(result.failureReason).toBeUndefined();
    expect(result.durationMs).toBeGreaterThan(0);
  });

  test('a rerun starts a new job in the same workDir but keeps the checkpoints; checkpointDir elsewhere is linked', async () => {
    const workDir = path.join(tmp, 'opt-ml');
    const checkpointDir = path.join(tmp, 'ckpt');
    const write = script(`
      const fs = require('fs'), path = require('path');
      const n = fs.readdirSync(process.env.SM_CHECKPOINT_DIR).length;
      fs.writeFileSync(path.join(process.env.OPT_ML, 'checkpoints', 'c' + n), '');
      fs.writeFileSync(path.join(process.env.SM_MODEL_DIR, 'm' + n), '');
      console.log('checkpoints before: ' + n);
    `);
    const opts = { command: write, channels: { train: channel('train') }, workDir, checkpointDir, ...quiet };
    const first = await runLocalTraining(opts);
    const second = await runLocalTraining(opts);
    expect([first.logs, second.logs]).toEqual([['checkpoints before: 0'], ['checkpoints before: 1']]);
    expect(fs.readdirSync(checkpointDir).sort()).toEqual(['c0', 'c1']);
    expect(fs.readdirSync(path.join(workDir, 'model'))).toEqual(['m1']);
    expect(fs.lstatSync(path.join(workDir, 'checkpoints')).isSymbolicLink()).toBe(true);
    expect(second.checkpointDir).toBe(checkpointDir);
  });

  test('fails if workDir/checkpoints holds checkpoints and another checkpointDir is given', async () => {
    const workDir = path.join(tmp, 'opt-ml');
    fs.mkdirSync(path.join(workDir, 'checkpoints'), { recursive: true });
    fs.writeFileSync(path.join(workDir, 'checkpoints', 'c0'), '');
    await expect(runLocalTraining({ command: [NODE, '-e', ''], channels: { train: channel('train') }, workDir, checkpointDir: path.join(tmp, 'x'), ...quiet }))
      .rejects.toThrow(/holds checkpoints of an earlier run and checkpointDir is .*; pass that directory as checkpointDir, or empty it/);
    expect(fs.readdirSync(path.join(workDir, 'checkpoints'))).toEqual(['c0']);
  });

  test('without workDir, a fresh temporary directory plays /opt/ml', async () => {
    const result = await runLocalTraining({ command: [NODE, '-e', 'console.log(process.env.OPT_ML)'], channels: { train: channel('train') }, ...quiet });
    expect(result.logs).toEqual([result.workDir]);
    expect(result.workDir.startsWith(path.join(os.tmpdir(), 'sm-local-'))).toBe(true);
    fs.rmSync(result.workDir, { recursive: true, force: true });
  });
});

describe('logs, metrics, exit', () => {
  test('streams stdout and stderr lines and scrapes metrics from both (last value and series)', async () => {
    const seen: [string, string][] = [];
    const result = await runLocalTraining({
      command: script(`
        console.log('epoch=1 train_loss=0.9 validation_accuracy=0.5');
        console.error('epoch=2 train_loss=0.5 validation_accuracy=0.75');
        console.log('epoch=3 train_loss=nan');
        process.stdout.write('epoch=4 train_loss=0.25 validation_accuracy=0.875');
      `),
      channels: { train: channel('train') },
      metricDefinitions: [
        { name: 'train:loss', regex: 'train_loss=([0-9.]+)' },
        { name: 'validation:accuracy', regex: 'validation_accuracy=([0-9.]+)' },
        { name: 'never', regex: 'never=([0-9.]+)' },
      ],
      onLog: (line, stream) => seen.push([stream, line]),
    });
    expect(result.exitCode).toBe(0);
    expect(seen).toEqual(expect.arrayContaining([
      ['stdout', 'epoch=1 train_loss=0.9 validation_accuracy=0.5'],
      ['stderr', 'epoch=2 train_loss=0.5 validation_accuracy=0.75'],
      ['stdout', 'epoch=4 train_loss=0.25 validation_accuracy=0.875'],
    ]));
    expect(result.metrics).toEqual({
      'train:loss': { last: 0.25, series: [0.9, 0.5, 0.25] },
      'validation:accuracy': { last: 0.875, series: [0.5, 0.75, 0.875] },
    });
  });

  test('reports the exit code and the failure reason the script wrote to output/failure', async () => {
    const result = await runLocalTraining({
      command: script(`
        require('fs').writeFileSync(require('path').join(process.env.OPT_ML, 'output', 'failure'), 'channel train has no records\\n');
        process.exit(3);
      `),
      channels: { train: channel('train') },
      ...quiet,
    });
    expect(result.exitCode).toBe(3);
    expect(result.failureReason).toBe('channel train has no records');
  });

  test('timeoutMs sends SIGTERM and, after stopGraceMs, SIGKILL', async () => {
    const result = await runLocalTraining({
      command: script('process.on(\'SIGTERM\', () => console.log(\'got SIGTERM, ignoring it\')); console.log(\'ready\'); setInterval(() => {}, 1000);'),
      channels: { train: channel('train') },
      timeoutMs: 1500,
      stopGraceMs: 500,
      ...quiet,
    });
    expect(result.logs).toEqual(['ready', 'got SIGTERM, ignoring it']);
    expect(result).toEqual(expect.objectContaining({ exitCode: 137, signal: 'SIGKILL', timedOut: true, stopped: false }));
  });

  test('aborting the signal stops the job like StopTrainingJob (SIGTERM; the script exits)', async () => {
    const controller = new AbortController();
    const result = await runLocalTraining({
      command: script('process.on(\'SIGTERM\', () => { console.log(\'checkpointing\'); process.exit(143); }); console.log(\'ready\'); setInterval(() => {}, 1000);'),
      channels: { train: channel('train') },
      signal: controller.signal,
      onLog: (line) => {
        if (line === 'ready') controller.abort();
      },
    });
    expect(result.logs).toEqual(['ready', 'checkpointing']);
    expect(result).toEqual(expect.objectContaining({ exitCode: 143, timedOut: false, stopped: true }));
    expect(result.signal).toBeUndefined();
  });
});

describe('scrapeMetrics', () => {
  test('reads back any finite number printed in the metric line format', () => {
    fc.assert(fc.property(
      fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1e6 }), { maxLength: 20 }),
      fc.array(fc.string(), { maxLength: 5 }),
      (values, noise) => {
        const lines = [...noise.map((n) => n.replace(/loss=/g, '')), ...values.map((v, i) => `epoch=${i + 1} train_loss=${v}`)];
        const metrics = scrapeMetrics(lines, [{ name: 'loss', regex: 'train_loss=([0-9.eE+-]+)' }]);
        if (values.length === 0) return Object.keys(metrics).length === 0;
        return JSON.stringify(metrics.loss.series) === JSON.stringify(values) && metrics.loss.last === values[values.length - 1];
      },
    ));
  });
});

describe('validation', () => {
  const train = () => channel('train');
  test('fails if the command is empty', async () => {
    await expect(runLocalTraining({ command: [], channels: { train: train() } })).rejects.toThrow('command must be a non-empty array');
  });
  test('fails if no channel is given', async () => {
    await expect(runLocalTraining({ command: [NODE], channels: {} })).rejects.toThrow('channels must name at least one channel');
  });
  test('fails if a channel is not a directory', async () => {
    await expect(runLocalTraining({ command: [NODE], channels: { train: path.join(tmp, 'missing') } }))
      .rejects.toThrow(/channel train: ".*missing" is not a directory; give a host directory to copy to input\/data\/train/);
  });
  test('fails if a channel name is not one SageMaker accepts', async () => {
    await expect(runLocalTraining({ command: [NODE], channels: { 'my channel': train() } }))
      .rejects.toThrow('channel name "my channel" is not allowed: 1 to 64 characters of A-Z a-z 0-9 . - _');
  });
  test('fails if a hyperparameter is not a string', async () => {
    await expect(runLocalTraining({ command: [NODE], channels: { train: train() }, hyperparameters: { epochs: 3 as unknown as string } }))
      .rejects.toThrow('hyperparameter epochs must be a string (SageMaker passes strings), got number');
  });
  test('fails if a metric regex is invalid', async () => {
    await expect(runLocalTraining({ command: [NODE], channels: { train: train() }, metricDefinitions: [{ name: 'loss', regex: 'loss=([0-9' }] }))
      .rejects.toThrow(/metric loss: regex "loss=\(\[0-9" is not a valid regular expression/);
  });
  test('fails if the command cannot be started', async () => {
    await expect(runLocalTraining({ command: [path.join(tmp, 'no-such-python')], channels: { train: train() }, ...quiet }))
      .rejects.toThrow(/could not start ".*no-such-python": spawn .* ENOENT/);
  });
});
