/**
 * Local mode of GpuTrainingJob: runs a training command on this machine with SageMaker's
 * training-container layout and environment, so the script that runs in a SageMaker training job
 * runs here unchanged (CPU, or the local GPUs).
 *
 * Layout (a fresh job under `workDir`; SageMaker's /opt/ml is `workDir` here):
 *
 *   <workDir>/input/data/<channel>/            a copy of each channel's host directory
 *   <workDir>/input/config/hyperparameters.json  (all values strings)
 *   <workDir>/input/config/resourceconfig.json   one host, algo-1
 *   <workDir>/input/config/inputdataconfig.json  File mode, FullyReplicated
 *   <workDir>/model/                           the script's model (SageMaker packs model.tar.gz)
 *   <workDir>/output/                          `failure` (the failure reason)
 *   <workDir>/output/data/                     other outputs
 *   <workDir>/checkpoints/                     checkpoints (or a link to `checkpointDir`)
 *
 * Environment (on top of `process.env` and `env`): `OPT_ML` is the root that replaces /opt/ml
 * (a script resolves `/opt/ml/<path>` as `$OPT_ML/<path>` when a more specific variable is not
 * set); the SM_* variables of SageMaker's training toolkit point into it: SM_MODEL_DIR,
 * SM_INPUT_DIR, SM_INPUT_CONFIG_DIR, SM_OUTPUT_DIR, SM_OUTPUT_DATA_DIR,
 * SM_OUTPUT_INTERMEDIATE_DIR, SM_CHANNELS, SM_CHANNEL_<NAME>, SM_HPS, SM_HP_<NAME>,
 * SM_INPUT_DATA_CONFIG, SM_RESOURCE_CONFIG, SM_CURRENT_HOST, SM_HOSTS, SM_CURRENT_INSTANCE_TYPE,
 * SM_NETWORK_INTERFACE_NAME, SM_NUM_GPUS, SM_NUM_CPUS, SM_LOG_LEVEL, SM_USER_ARGS,
 * SM_TRAINING_ENV, plus TRAINING_JOB_NAME (which SageMaker sets in every training container) and
 * SM_CHECKPOINT_DIR (ours: SageMaker has no variable for CheckpointConfig.LocalPath, which
 * defaults to /opt/ml/checkpoints). PYTHONUNBUFFERED=1 makes Python's log lines arrive as written.
 *
 * Metrics are extracted from every stdout and stderr line with the regexes of the metric
 * definitions, as SageMaker does (the first capture group, a number).
 *
 * Pure Node.js (no aws-cdk-lib, no SDK).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A metric scraped from the training logs (SageMaker's MetricDefinition). */
export interface LocalMetricDefinition {
  /** The metric's name. */
  readonly name: string;
  /** A regular expression whose first capture group is the metric's value. */
  readonly regex: string;
}

/** Options of runLocalTraining. */
export interface LocalTrainingOptions {
  /** The command and its arguments, for example `['/usr/bin/python3', 'train.py']`. */
  readonly command: string[];
  /** Input channels: channel name → a host directory, copied to `input/data/<name>`. */
  readonly channels: Record<string, string>;
  /** Hyperparameters (strings, as SageMaker passes them). @default {} */
  readonly hyperparameters?: Record<string, string>;
  /** Metric definitions. @default [] */
  readonly metricDefinitions?: LocalMetricDefinition[];
  /**
   * The directory that plays /opt/ml. Its input/, model/ and output/ are emptied first (a new
   * job); checkpoints/ is kept.
   * @default - a new directory under the system's temporary directory
   */
  readonly workDir?: string;
  /**
   * Where checkpoints live across runs (SageMaker syncs /opt/ml/checkpoints with S3).
   * @default `<workDir>/checkpoints`
   */
  readonly checkpointDir?: string;
  /** Additional environment variables (they override the ones the runner sets). @default {} */
  readonly env?: Record<string, string>;
  /** The command's working directory. @default process.cwd() */
  readonly cwd?: string;
  /**
   * Maximum runtime; then SIGTERM, and SIGKILL after `stopGraceMs` (SageMaker's MaxRuntime).
   * @default - no limit
   */
  readonly timeoutMs?: number;
  /** Between SIGTERM and SIGKILL (SageMaker gives 120 s). @default 120000 */
  readonly stopGraceMs?: number;
  /** Aborting it stops the job like StopTrainingJob: SIGTERM, then SIGKILL after `stopGraceMs`. */
  readonly signal?: AbortSignal;
  /** SM_NUM_GPUS. @default - the number of GPUs `nvidia-smi -L` lists, 0 without it */
  readonly numGpus?: number;
  /** The job's name (TRAINING_JOB_NAME). @default `local-<timestamp>` */
  readonly jobName?: string;
  /**
   * Receives every log line as it arrives.
   * @default - lines are written to this process's stdout/stderr, prefixed with `[algo-1] `
   */
  readonly onLog?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** One metric's values, in log order. */
export interface LocalMetric {
  /** The last value logged. */
  readonly last: number;
  /** Every value logged, in order. */
  readonly series: number[];
}

/** What runLocalTraining returns. */
export interface LocalTrainingResult {
  /** The exit code; 128 + the signal's number when the process was killed by a signal. */
  readonly exitCode: number;
  /** The signal that ended the process, if one did. */
  readonly signal?: string;
  /** Metrics by name (only those logged at least once). */
  readonly metrics: Record<string, LocalMetric>;
  /** The contents of output/failure (trimmed), when the script wrote one. */
  readonly failureReason?: string;
  /** True when the job was stopped by `timeoutMs`. */
  readonly timedOut: boolean;
  /** True when the job was stopped through `signal`. */
  readonly stopped: boolean;
  /** The root that plays /opt/ml. */
  readonly workDir: string;
  /** `<workDir>/model`. */
  readonly modelDir: string;
  /** `<workDir>/output`. */
  readonly outputDir: string;
  /** `<workDir>/output/data`. */
  readonly outputDataDir: string;
  /** The checkpoint directory used. */
  readonly checkpointDir: string;
  /** Every log line (stdout and stderr interleaved as received). */
  readonly logs: string[];
  /** Wall-clock time of the command. */
  readonly durationMs: number;
}

const CURRENT_HOST = 'algo-1';
const CHANNEL_NAME = /^[A-Za-z0-9.\-_]{1,64}$/;
const HYPERPARAMETER_KEY_MAX = 256;
const HYPERPARAMETER_VALUE_MAX = 2500;
const HYPERPARAMETERS_MAX = 100;

/** SageMaker's toolkit names: upper case, `-` → `_`. */
function envSuffix(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

function detectGpus(): number {
  try {
    const r = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0 || typeof r.stdout !== 'string') return 0;
    return r.stdout.split('\n').filter((l) => l.startsWith('GPU ')).length;
  } catch {
    return 0;
  }
}

function validate(options: LocalTrainingOptions): RegExp[] {
  if (!Array.isArray(options.command) || options.command.length === 0 || !options.command[0]) {
    throw new Error(`runLocalTraining: command must be a non-empty array (the program and its arguments), got ${JSON.stringify(options.command)}`);
  }
  const names = Object.keys(options.channels ?? {});
  if (names.length === 0) {
    throw new Error('runLocalTraining: channels must name at least one channel (name → host directory)');
  }
  for (const [name, dir] of Object.entries(options.channels)) {
    if (!CHANNEL_NAME.test(name)) {
      throw new Error(`runLocalTraining: channel name ${JSON.stringify(name)} is not allowed: 1 to 64 characters of A-Z a-z 0-9 . - _`);
    }
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new Error(`runLocalTraining: channel ${name}: ${JSON.stringify(dir)} is not a directory; give a host directory to copy to input/data/${name}`);
    }
  }
  const hps = Object.entries(options.hyperparameters ?? {});
  if (hps.length > HYPERPARAMETERS_MAX) {
    throw new Error(`runLocalTraining: ${hps.length} hyperparameters; SageMaker accepts at most ${HYPERPARAMETERS_MAX}`);
  }
  for (const [k, v] of hps) {
    if (typeof v !== 'string') {
      throw new Error(`runLocalTraining: hyperparameter ${k} must be a string (SageMaker passes strings), got ${typeof v}`);
    }
    if (k.length === 0 || k.length > HYPERPARAMETER_KEY_MAX || v.length > HYPERPARAMETER_VALUE_MAX) {
      throw new Error(`runLocalTraining: hyperparameter ${JSON.stringify(k.slice(0, 40))}: keys are 1 to ${HYPERPARAMETER_KEY_MAX} characters, values at most ${HYPERPARAMETER_VALUE_MAX}`);
    }
  }
  for (const t of [options.timeoutMs, options.stopGraceMs]) {
    if (t !== undefined && !(Number.isFinite(t) && t > 0)) {
      throw new Error(`runLocalTraining: timeoutMs and stopGraceMs must be positive numbers of milliseconds, got ${t}`);
    }
  }
  return compileMetricDefinitions(options.metricDefinitions ?? []);
}

function compileMetricDefinitions(definitions: LocalMetricDefinition[]): RegExp[] {
  const names = new Set<string>();
  return definitions.map((d) => {
    if (!d.name || names.has(d.name)) {
      throw new Error(`runLocalTraining: metric names must be non-empty and unique, got ${JSON.stringify(d.name)} twice or empty`);
    }
    names.add(d.name);
    try {
      return new RegExp(d.regex);
    } catch (e) {
      throw new Error(`runLocalTraining: metric ${d.name}: regex ${JSON.stringify(d.regex)} is not a valid regular expression (${(e as Error).message})`);
    }
  });
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Metrics from log lines as SageMaker scrapes them: for each definition, each line its regex
 * matches contributes the number in the first capture group (lines without a finite number there
 * are skipped).
 */
export function scrapeMetrics(lines: string[], definitions: LocalMetricDefinition[], compiled?: RegExp[]): Record<string, LocalMetric> {
  const regexes = compiled ?? compileMetricDefinitions(definitions);
  const metrics: Record<string, LocalMetric> = {};
  definitions.forEach((d, i) => {
    const series: number[] = [];
    for (const line of lines) {
      const m = regexes[i].exec(line);
      const value = m && m[1] !== undefined ? Number(m[1]) : NaN;
      if (m && m[1] !== undefined && m[1].trim() !== '' && Number.isFinite(value)) series.push(value);
    }
    if (series.length > 0) metrics[d.name] = { last: series[series.length - 1], series };
  });
  return metrics;
}

/** Runs a training command with SageMaker's layout and environment; resolves when it exits. */
export async function runLocalTraining(options: LocalTrainingOptions): Promise<LocalTrainingResult> {
  const regexes = validate(options);
  const workDir = path.resolve(options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sm-local-')));
  const dirs = {
    input: path.join(workDir, 'input'),
    data: path.join(workDir, 'input', 'data'),
    config: path.join(workDir, 'input', 'config'),
    model: path.join(workDir, 'model'),
    output: path.join(workDir, 'output'),
    outputData: path.join(workDir, 'output', 'data'),
    intermediate: path.join(workDir, 'output', 'intermediate'),
  };
  for (const d of [dirs.input, dirs.model, dirs.output]) fs.rmSync(d, { recursive: true, force: true });
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });

  const optCheckpoints = path.join(workDir, 'checkpoints');
  const checkpointDir = path.resolve(options.checkpointDir ?? optCheckpoints);
  fs.mkdirSync(checkpointDir, { recursive: true });
  if (checkpointDir !== optCheckpoints) {
    // <workDir>/checkpoints becomes a link to checkpointDir (for scripts that only know /opt/ml)
    const existing = fs.lstatSync(optCheckpoints, { throwIfNoEntry: false });
    if (existing?.isSymbolicLink() || (existing?.isDirectory() && fs.readdirSync(optCheckpoints).length === 0)) {
      fs.rmSync(optCheckpoints, { recursive: true, force: true });
    } else if (existing) {
      throw new Error(`runLocalTraining: ${optCheckpoints} holds checkpoints of an earlier run and checkpointDir is ${checkpointDir}; pass that directory as checkpointDir, or empty it`);
    }
    fs.symlinkSync(checkpointDir, optCheckpoints, 'dir');
  }

  const channelNames = Object.keys(options.channels);
  const channelEnv: Record<string, string> = {};
  for (const [name, hostDir] of Object.entries(options.channels)) {
    const target = path.join(dirs.data, name);
    fs.cpSync(hostDir, target, { recursive: true, dereference: true });
    channelEnv[`SM_CHANNEL_${envSuffix(name)}`] = target;
  }

  const hyperparameters = { ...(options.hyperparameters ?? {}) };
  const hpEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(hyperparameters)) hpEnv[`SM_HP_${envSuffix(k)}`] = v;
  const inputDataConfig = Object.fromEntries(channelNames.map((n) => [n, {
    TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None',
  }]));
  const resourceConfig = {
    current_host: CURRENT_HOST,
    current_instance_type: 'local',
    current_group_name: 'homogeneousCluster',
    hosts: [CURRENT_HOST],
    instance_groups: [{ instance_group_name: 'homogeneousCluster', instance_type: 'local', hosts: [CURRENT_HOST] }],
    network_interface_name: 'eth0',
  };
  writeJson(path.join(dirs.config, 'hyperparameters.json'), hyperparameters);
  writeJson(path.join(dirs.config, 'inputdataconfig.json'), inputDataConfig);
  writeJson(path.join(dirs.config, 'resourceconfig.json'), resourceConfig);

  const numGpus = options.numGpus ?? detectGpus();
  const jobName = options.jobName ?? `local-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}`;
  const userArgs = Object.entries(hyperparameters).flatMap(([k, v]) => [`--${k}`, v]);
  const trainingEnv = {
    job_name: jobName,
    current_host: CURRENT_HOST,
    hosts: [CURRENT_HOST],
    channel_input_dirs: Object.fromEntries(channelNames.map((n) => [n, path.join(dirs.data, n)])),
    hyperparameters,
    model_dir: dirs.model,
    output_dir: dirs.output,
    output_data_dir: dirs.outputData,
    input_dir: dirs.input,
    input_config_dir: dirs.config,
    num_gpus: numGpus,
    num_cpus: os.cpus().length,
  };
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PYTHONUNBUFFERED: '1',
    OPT_ML: workDir,
    TRAINING_JOB_NAME: jobName,
    SM_MODEL_DIR: dirs.model,
    SM_INPUT_DIR: dirs.input,
    SM_INPUT_CONFIG_DIR: dirs.config,
    SM_OUTPUT_DIR: dirs.output,
    SM_OUTPUT_DATA_DIR: dirs.outputData,
    SM_OUTPUT_INTERMEDIATE_DIR: dirs.intermediate,
    SM_CHECKPOINT_DIR: checkpointDir,
    SM_CHANNELS: JSON.stringify(channelNames),
    ...channelEnv,
    SM_HPS: JSON.stringify(hyperparameters),
    ...hpEnv,
    SM_INPUT_DATA_CONFIG: JSON.stringify(inputDataConfig),
    SM_RESOURCE_CONFIG: JSON.stringify(resourceConfig),
    SM_CURRENT_HOST: CURRENT_HOST,
    SM_HOSTS: JSON.stringify([CURRENT_HOST]),
    SM_CURRENT_INSTANCE_TYPE: 'local',
    SM_NETWORK_INTERFACE_NAME: 'eth0',
    SM_NUM_GPUS: String(numGpus),
    SM_NUM_CPUS: String(os.cpus().length),
    SM_LOG_LEVEL: '20',
    SM_USER_ARGS: JSON.stringify(userArgs),
    SM_TRAINING_ENV: JSON.stringify(trainingEnv),
    ...(options.env ?? {}),
  };

  const logs: string[] = [];
  const onLog = options.onLog ?? ((line: string, stream: 'stdout' | 'stderr') => {
    (stream === 'stdout' ? process.stdout : process.stderr).write(`[${CURRENT_HOST}] ${line}\n`);
  });
  const handleLine = (line: string, stream: 'stdout' | 'stderr') => {
    logs.push(line);
    onLog(line, stream);
  };

  const started = Date.now();
  const child = spawn(options.command[0], options.command.slice(1), {
    cwd: options.cwd ?? process.cwd(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk: string) => {
      const parts = (pending[stream] + chunk).split(/\r?\n/);
      pending[stream] = parts.pop() ?? '';
      for (const line of parts) handleLine(line, stream);
    });
  }

  let timedOut = false;
  let stopped = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (killTimer || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    killTimer = setTimeout(() => child.kill('SIGKILL'), options.stopGraceMs ?? 120_000);
  };
  const timeout = options.timeoutMs !== undefined ? setTimeout(() => {
    timedOut = true;
    stop();
  }, options.timeoutMs) : undefined;
  const onAbort = () => {
    stopped = true;
    stop();
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (e) => reject(new Error(`runLocalTraining: could not start ${JSON.stringify(options.command[0])}: ${e.message}`)));
    child.once('close', (c, s) => resolve({ code: c, signal: s }));
  }).finally(() => {
    if (timeout) clearTimeout(timeout);
    if (killTimer) clearTimeout(killTimer);
    options.signal?.removeEventListener('abort', onAbort);
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    if (pending[stream]) handleLine(pending[stream], stream);
  }
  const durationMs = Date.now() - started;

  const failureFile = path.join(dirs.output, 'failure');
  const failureReason = fs.existsSync(failureFile) ? fs.readFileSync(failureFile, 'utf8').trim() : undefined;
  const metrics = scrapeMetrics(logs, options.metricDefinitions ?? [], regexes);
  const exitCode = code ?? 128 + (signal ? os.constants.signals[signal] ?? 0 : 0);
  return {
    exitCode,
    ...(signal ? { signal } : {}),
    metrics,
    ...(failureReason !== undefined ? { failureReason } : {}),
    timedOut,
    stopped,
    workDir,
    modelDir: dirs.model,
    outputDir: dirs.output,
    outputDataDir: dirs.outputData,
    checkpointDir,
    logs,
    durationMs,
  };
}
