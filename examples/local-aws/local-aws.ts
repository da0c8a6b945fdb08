/**
 * Local AWS: a private `moto_server` (from `.venv-tools`, installed by `npx projen setup:tools`) on
 * a free loopback port, with ready-made SDK v3 clients. The reference app's local run uses it, and
 * so do the tests (through `test/support/local-aws.ts`, which adds a jest helper):
 *
 *   const aws = await startLocalAws();
 *   try {
 *     await aws.s3().send(new CreateBucketCommand({ Bucket: 'b' }));
 *   } finally {
 *     await aws.stop();
 *   }
 *
 * Handler code that builds its clients at module scope (`const s3 = new S3Client({})`) is pointed
 * at moto through the environment: `aws.applyEnv()` sets AWS_ENDPOINT_URL, AWS_REGION,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY before the handler module is imported. SDK v3 (3.1175
 * here) honours AWS_ENDPOINT_URL for every client. It does NOT read AWS_S3_FORCE_PATH_STYLE, but
 * it needs no path-style flag here: the endpoint is an IP literal (127.0.0.1), and the S3 endpoint
 * rules use path-style addressing for IP endpoints. (With `http://localhost:PORT` the SDK would
 * address `bucket.localhost`, which does not resolve.) So handler code should just use
 * `new S3Client({})`, with no endpoint or path-style options.
 *
 * What moto does not do: it evaluates no IAM, bucket or key policy, and does not enforce
 * presigned-POST policy conditions. Prove those another way.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';

/** Repository root (this file is examples/local-aws/local-aws.ts). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Where `npx projen setup:tools` installs moto_server. Override with MOTO_SERVER_BIN. */
export const MOTO_SERVER_BIN = process.env.MOTO_SERVER_BIN ?? path.join(REPO_ROOT, '.venv-tools', 'bin', 'moto_server');

/** Static, obviously fake credentials; moto accepts anything. */
export interface LocalAwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Spread into any SDK v3 client constructor: `new SQSClient({ ...aws.clientConfig })`. */
export interface LocalAwsClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: LocalAwsCredentials;
  /** Only S3 reads it; other clients ignore it. Not needed for 127.0.0.1, kept for clarity. */
  readonly forcePathStyle: true;
}

export interface LocalAws {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly credentials: LocalAwsCredentials;
  readonly clientConfig: LocalAwsClientConfig;
  /** Environment variables that point SDK v3 clients built from the environment at moto. */
  readonly env: Readonly<Record<string, string>>;
  /** A new S3 client for moto (clientConfig + maxAttempts). */
  s3(): S3Client;
  /** A new KMS client for moto (clientConfig + maxAttempts). */
  kms(): KMSClient;
  /**
   * Writes `env` into process.env (and removes AWS_PROFILE / AWS_SESSION_TOKEN and the other
   * variables that could route calls elsewhere). Returns a function that restores the previous
   * values. Apply it BEFORE importing handler code that creates clients at module scope.
   */
  applyEnv(): () => void;
  /** Forget all state in moto (buckets, keys, queues...): POST /moto-api/reset. */
  reset(): Promise<void>;
  /** Stops moto_server (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

export interface StartLocalAwsOptions {
  /** Default: eu-central-1. */
  readonly region?: string;
  /** How long to wait for moto to answer. Default 60 s (normally ~2 s; CI machines are noisy). */
  readonly startTimeoutMs?: number;
  /** SDK maxAttempts for the clients that s3() and kms() build. Default 1 (fail fast). */
  readonly maxAttempts?: number;
  /** Override the moto_server executable. */
  readonly motoServerBin?: string;
  /** A fixed port instead of a free one (no retry). For tests of this fixture. */
  readonly port?: number;
}

/** Environment variables that, if left in place, could send SDK calls somewhere else. */
const ENV_TO_CLEAR = [
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_KMS',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SFN',
  'AWS_ENDPOINT_URL_EVENTBRIDGE',
  'AWS_ENDPOINT_URL_SAGEMAKER',
];

// ---- leak protection ------------------------------------------------------------------------
// Every moto child is (1) killed by a process 'exit' hook if a test never calls stop(), and
// (2) started under a tiny Python wrapper that sets PR_SET_PDEATHSIG, so the kernel kills moto
// even when this process dies without running JS (SIGKILL of a jest worker, a crash).
const LIVE = new Set<ChildProcess>();
function killAllOnExit(): void {
  for (const child of LIVE) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
/** Adds the child and, for the first one, the exit hook (removed again when none is left). */
function track(child: ChildProcess): void {
  if (LIVE.size === 0) process.on('exit', killAllOnExit);
  LIVE.add(child);
}
function untrack(child: ChildProcess): void {
  if (LIVE.delete(child) && LIVE.size === 0) process.removeListener('exit', killAllOnExit);
}

/**
 * execv()s moto_server after asking the kernel to SIGTERM it when its parent (this Node
 * process) exits. PDEATHSIG survives execve. If the parent is already gone, exit at once.
 */
export const PDEATHSIG_WRAPPER = [
  'import ctypes, os, signal, sys',
  'try:',
  '    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)',
  'except Exception:',
  '    pass',
  'if os.getppid() != int(sys.argv[1]):',
  '    sys.exit(1)',
  'os.execv(sys.argv[2], sys.argv[2:])',
].join('\n');

/** A port that was free a moment ago (bind port 0 on loopback, read it, release it). */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}

class MotoExitedError extends Error {}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts a private moto_server and resolves once it answers HTTP. */
export async function startLocalAws(options: StartLocalAwsOptions = {}): Promise<LocalAws> {
  const bin = options.motoServerBin ?? MOTO_SERVER_BIN;
  if (!fs.existsSync(bin)) {
    throw new Error(`moto_server not found at ${bin}. Run \`npx projen setup:tools\` (bash .ci/setup-tools.sh) first.`);
  }
  // The port can be taken between findFreePort() and moto's bind(): if moto exits during
  // start, try another port (twice more). A start timeout is not retried.
  if (options.port !== undefined) return launch(bin, options.port, options);
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    try {
      return await launch(bin, port, options);
    } catch (e) {
      if (!(e instanceof MotoExitedError) || attempt >= 3) throw e;
    }
  }
}

async function launch(bin: string, port: number, options: StartLocalAwsOptions): Promise<LocalAws> {
  const region = options.region ?? 'eu-central-1';
  const endpoint = `http://127.0.0.1:${port}`;
  const python = path.join(path.dirname(bin), 'python');
  const motoArgs = [bin, '-H', '127.0.0.1', '-p', String(port)];
  const [cmd, args] = fs.existsSync(python)
    ? [python, ['-c', PDEATHSIG_WRAPPER, String(process.pid), ...motoArgs]]
    : [bin, motoArgs.slice(1)];

  const child = spawn(cmd, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // moto must not pick up real credentials or endpoints from the test's environment.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LANG: 'C.UTF-8', PYTHONUNBUFFERED: '1' },
  });
  track(child);
  // Keep the last 16 KB of output for error messages; the pipes must be drained anyway.
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      untrack(child);
      resolve();
    });
    child.once('error', (err) => {
      exited = { code: null, signal: null };
      output += `\nspawn error: ${err.message}`;
      untrack(child);
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exitPromise;
    clearTimeout(timer);
  };

  // Wait until OUR moto has bound the port (werkzeug prints "Running on <url>" after bind(), so
  // a server of another jest worker that took the port meanwhile is not mistaken for ours),
  // then until it answers HTTP.
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      throw new MotoExitedError(`moto_server exited during start (code ${exited.code}, signal ${exited.signal}):\n${output}`);
    }
    if (!output.includes(`Running on ${endpoint}`)) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`moto_server did not bind ${endpoint} within ${timeoutMs} ms:\n${output}`);
      }
      await sleep(50);
      continue;
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms:\n${output}`);
    }
    await sleep(100);
  }

  const credentials: LocalAwsCredentials = { accessKeyId: 'AKIALOCALTESTING0000', secretAccessKey: 'local-testing-secret' };
  const clientConfig: LocalAwsClientConfig = {
    endpoint,
    region,
    credentials,
    forcePathStyle: true,
  };
  const maxAttempts = options.maxAttempts ?? 1;
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    // Keep the SDK from reading ~/.aws/{config,credentials} of whoever runs the tests.
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };

  return {
    endpoint,
    port,
    region,
    credentials,
    clientConfig,
    env,
    s3: () => new S3Client({ ...clientConfig, maxAttempts }),
    kms: () => new KMSClient({ ...clientConfig, maxAttempts }),
    applyEnv: () => applyEnv(env),
    reset: async () => {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      const body = await res.text();
      if (!res.ok) throw new Error(`moto reset failed: ${res.status} ${body}`);
    },
    stop,
  };
}

/** Sets `vars` in process.env (clearing ENV_TO_CLEAR); returns a function that restores it. */
export function applyEnv(vars: Readonly<Record<string, string>>): () => void {
  const keys = [...new Set([...Object.keys(vars), ...ENV_TO_CLEAR])];
  const saved = new Map<string, string | undefined>(keys.map((k) => [k, process.env[k]]));
  for (const k of ENV_TO_CLEAR) delete process.env[k];
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
