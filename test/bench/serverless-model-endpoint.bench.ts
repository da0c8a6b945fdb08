/**
 * ServerlessModelEndpoint benchmark: the deployed zip artifact (esbuild bundle of
 * predict.handler.ts + onnxruntime-node for this platform + the reference model), run by plain
 * `node` in fresh child processes, as Lambda runs it.
 *
 *   npx ts-node --project tsconfig.dev.json test/bench/serverless-model-endpoint.bench.ts [--iterations N] [--cold N] [--no-write]
 *
 * Warm (one process, one model, the same inputs, measured side by side in alternating blocks):
 *   raw        `session.run` on a prebuilt tensor (a second session, same model and options)
 *   predict    the request path without the Lambda shell: decode, parse, validate, build the
 *              tensor, run, serialize outputs + softmax + argmax (the predictor the handler uses)
 *   handler    the exported Lambda handler: the above plus the inference id, the API Gateway
 *              response (JSON) and the request's EMF line written to stdout (capture off)
 *   capture    the same handler module loaded a second time with prediction capture at 100%
 *              (CAPTURE_PERCENT=100): every request also writes its capture line to stdout
 * The warm process runs twice: with stdout on /dev/null (the handler's compute), and with stdout
 * a pipe that another process drains (as Lambda's log collector does; each line then costs a
 * write to a pipe and wakes its reader).
 * Cold (one fresh process each): module load (require of the bundle: onnxruntime-node's native
 * library, Powertools, the handler), model ready (+ model read, SHA-256, session creation), first
 * response (+ the first request), and the whole process from spawn.
 *
 * Prints a markdown table and writes it into BENCHMARKS.md under "## ServerlessModelEndpoint"
 * (replacing that section). Goals (issue 4): the handler adds at most 100 µs at p50 over raw
 * session.run; cold init under 300 ms.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { benchArgs, writeBenchmarkSection } from './benchmarks-file';
import { buildArtifact, BuiltArtifact } from '../serverless-model-endpoint/bundle';
import { EXPECTED, METADATA } from '../serverless-model-endpoint/fixture';

const args = benchArgs();
const ITERATIONS = args.value('--iterations', 2000);
const WARMUP = args.value('--warmup', 500);
const COLD_RUNS = args.value('--cold', 15);
const WRITE = !args.has('--no-write');
const GOAL_OVERHEAD_US = 100;
const GOAL_COLD_MS = 300;

/** The warm benchmark, run by plain node inside the artifact directory. */
const WARM_SCRIPT = String.raw`
const fs = require('node:fs');
const rssStart = process.memoryUsage().rss;
const { handler, modelReady } = require('./index.js');
// A second instance of the handler module, with capture on for every request (side by side).
delete require.cache[require.resolve('./index.js')];
process.env.CAPTURE_PERCENT = '100';
process.env.CAPTURE_NAME = 'bench';
const captured = require('./index.js');
delete process.env.CAPTURE_PERCENT;
const ort = require('onnxruntime-node');
const cfg = JSON.parse(process.env.BENCH_CONFIG);
const now = () => process.hrtime.bigint();
(async () => {
  const predictor = await modelReady();
  await captured.modelReady();
  const session = await ort.InferenceSession.create(fs.readFileSync(process.env.MODEL_PATH), {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', executionMode: 'sequential', intraOpNumThreads: 1, interOpNumThreads: 1,
  });
  const rssLoaded = process.memoryUsage().rss;
  const context = { awsRequestId: 'bench', functionName: 'predict', functionVersion: '1', memoryLimitInMB: '1769', invokedFunctionArn: 'arn:bench' };
  const results = {};
  for (const scenario of cfg.scenarios) {
    const rows = scenario.rows;
    const tensor = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 12]);
    const body = JSON.stringify({ inputs: { features: rows } });
    const event = { body, isBase64Encoded: false, httpMethod: 'POST', path: '/predict', headers: { 'content-type': 'application/json' }, requestContext: {} };
    const paths = {
      raw: () => session.run({ features: tensor }),
      predict: () => predictor.predict(body, false),
      handler: () => handler(event, context),
      capture: () => captured.handler(event, context),
    };
    // sanity: the three paths agree
    const r = await paths.raw();
    const p = await paths.predict();
    const h = await paths.handler();
    const c = await paths.capture();
    if (h.statusCode !== 200) throw new Error('handler answered ' + h.statusCode + ': ' + h.body);
    if (c.statusCode !== 200) throw new Error('handler with capture answered ' + c.statusCode + ': ' + c.body);
    const hb = JSON.parse(h.body);
    const cb = JSON.parse(c.body);
    if (!hb.inferenceId || !cb.inferenceId) throw new Error('no inference id');
    const worst = Math.max(...Array.from(r.logits.data).map((v, i) => Math.abs(v - p.body.outputs.logits.flat()[i])
      + Math.abs(v - hb.outputs.logits.flat()[i]) + Math.abs(v - cb.outputs.logits.flat()[i])));
    if (!(worst === 0)) throw new Error('paths disagree by ' + worst);
    for (const f of Object.values(paths)) for (let i = 0; i < cfg.warmup; i++) await f();
    const samples = { raw: [], predict: [], handler: [], capture: [] };
    const names = Object.keys(paths);
    const block = 10;
    for (let done = 0; done < cfg.iterations; done += block) {
      // alternate the order of the paths from block to block
      const order = (done / block) % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const f = paths[name];
        const out = samples[name];
        for (let i = 0; i < block; i++) {
          const t0 = now();
          await f();
          out.push(Number(now() - t0) / 1000);
        }
      }
    }
    results[scenario.name] = samples;
  }
  const rssEnd = process.memoryUsage().rss;
  fs.writeFileSync(process.env.RESULT_FILE, JSON.stringify({ results, rss: { start: rssStart, loaded: rssLoaded, end: rssEnd }, node: process.version, ort: ort.env.versions }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

/** One cold start, run by plain node inside the artifact directory. */
const COLD_SCRIPT = String.raw`
const t0 = performance.now();
const fs = require('node:fs');
const { handler, modelReady } = require('./index.js');
const t1 = performance.now();
modelReady().then(async () => {
  const t2 = performance.now();
  const res = await handler({ body: process.env.BENCH_BODY, isBase64Encoded: false, headers: {}, requestContext: {} });
  const t3 = performance.now();
  if (res.statusCode !== 200) throw new Error('handler answered ' + res.statusCode);
  fs.writeFileSync(process.env.RESULT_FILE, JSON.stringify({ moduleLoad: t1 - t0, modelReady: t2 - t0, firstResponse: t3 - t0, rss: process.memoryUsage().rss }));
}).catch((e) => { console.error(e); process.exit(1); });
`;

type StdoutMode = 'devnull' | 'pipe';

interface ChildResult<T> {
  readonly result: T;
  readonly stdout: string;
  readonly wallMs: number;
}

function runChild<T>(artifact: BuiltArtifact, script: string, extraEnv: Record<string, string>, stdoutMode: StdoutMode = 'pipe'): Promise<ChildResult<T>> {
  const resultFile = path.join(artifact.dir, `result-${process.hrtime.bigint()}.json`);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: artifact.dir,
    LANG: 'C.UTF-8',
    MODEL_SOURCE: 'asset',
    MODEL_PATH: artifact.modelPath,
    MODEL_SHA256: METADATA.sha256,
    MODEL_VERSION: METADATA.version,
    CLASS_NAMES: JSON.stringify(METADATA.classNames),
    MAX_BATCH: '64',
    RESULT_FILE: resultFile,
    ...extraEnv,
  };
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // stdout is a pipe that we drain, like the Lambda runtime's log collector
    const child = spawn(process.execPath, ['-e', script], {
      cwd: artifact.dir, env, stdio: ['ignore', stdoutMode === 'pipe' ? 'pipe' : 'ignore', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let keep = true;
    child.stdout?.on('data', (c: Buffer) => {
      if (keep && stdout.length < 64_000) stdout += c.toString('utf8');
      else keep = false;
    });
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - t0;
      if (code !== 0 || !fs.existsSync(resultFile)) {
        reject(new Error(`benchmark child failed (exit ${code}):\n${stderr}`));
        return;
      }
      const result = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as T;
      fs.rmSync(resultFile);
      resolve({ result, stdout, wallMs });
    });
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function stats(samples: readonly number[]): { p50: number; p99: number; mean: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length, n: s.length };
}

const us = (v: number) => `${v.toFixed(1)} µs`;
const ms = (v: number) => `${v.toFixed(1)} ms`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function gzipBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? gzipBytes(p) : zlib.gzipSync(fs.readFileSync(p), { level: 9 }).length;
  }
  return total;
}

interface WarmResult {
  results: Record<string, Record<'raw' | 'predict' | 'handler' | 'capture', number[]>>;
  rss: { start: number; loaded: number; end: number };
  node: string;
  ort: Record<string, string>;
}

interface ColdResult {
  moduleLoad: number;
  modelReady: number;
  firstResponse: number;
  rss: number;
}

async function main(): Promise<void> {
  const artifact = buildArtifact();
  try {
    const scenarios = [
      { name: 'batch 1', rows: [EXPECTED.inputs.features[2]] },
      { name: 'batch 32', rows: Array.from({ length: 32 }, (_, i) => EXPECTED.inputs.features[i % EXPECTED.inputs.features.length]) },
    ];
    const warmRuns: Partial<Record<StdoutMode, ChildResult<WarmResult>>> = {};
    for (const mode of ['devnull', 'pipe'] as const) {
      process.stderr.write(`warm, stdout ${mode}: ${ITERATIONS} iterations per path and scenario after ${WARMUP} warm-up...\n`);
      warmRuns[mode] = await runChild<WarmResult>(artifact, WARM_SCRIPT, {
        BENCH_CONFIG: JSON.stringify({ scenarios, iterations: ITERATIONS, warmup: WARMUP }),
      }, mode);
    }
    const warm = warmRuns.pipe!;
    // the capture instance did write capture lines (the parent keeps the first 64 kB of the pipe)
    const captureLines = warm.stdout.split('\n').filter((l) => l.startsWith('{"captureVersion":"1","endpoint":"bench"')).length;
    if (captureLines === 0) throw new Error('the capture instance wrote no capture line');

    process.stderr.write(`cold: ${COLD_RUNS} fresh processes...\n`);
    const cold: (ColdResult & { wallMs: number; sessionMs: number; readMs: number; hashMs: number })[] = [];
    const coldBody = JSON.stringify({ inputs: { features: [EXPECTED.inputs.features[2]] } });
    for (let i = 0; i < COLD_RUNS; i++) {
      const run = await runChild<ColdResult>(artifact, COLD_SCRIPT, { BENCH_BODY: coldBody });
      const loaded = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.message === 'model loaded');
      cold.push({ ...run.result, wallMs: run.wallMs, sessionMs: loaded.sessionMs, readMs: loaded.readMs, hashMs: loaded.hashMs });
    }

    const lines: string[] = [];
    const date = new Date().toISOString().slice(0, 10);
    lines.push('## ServerlessModelEndpoint');
    lines.push('');
    lines.push(`Generated by \`npx ts-node --project tsconfig.dev.json test/bench/serverless-model-endpoint.bench.ts\` on ${date}: `
      + `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${warm.result.node}, onnxruntime-node ${warm.result.ort.node}. `
      + `Model: ${METADATA.file} (${METADATA.bytes} bytes, ${METADATA.inputs[0].name} float32[batch, 12] → ${METADATA.outputs[0].name} [batch, 7]). `
      + 'The deployed zip artifact (esbuild bundle + onnxruntime-node for linux-x64 only + the model) run by plain `node`, '
      + 'onnxruntime with 1 intra-op thread. Single readings on a shared, noisy machine: compare rows of one run, not runs.');
    lines.push('');
    lines.push(`### Warm requests (${ITERATIONS} per path, after ${WARMUP} warm-up, paths interleaved in blocks of 10)`);
    lines.push('');
    lines.push('Each process measures its four paths side by side; the two processes differ only in where stdout goes. '
      + '"Lambda handler" has capture off (the default); "handler, capture 100%" is the same bundle loaded a second time with '
      + '`CAPTURE_PERCENT=100`: every request also writes its capture line (inputs, outputs, classes; about '
      + `${(Buffer.byteLength(JSON.stringify(EXPECTED.inputs.features[2])) + 200).toFixed(0)} bytes for one example) to stdout.`);
    lines.push('');
    lines.push('| scenario | stdout | path | p50 | p99 | mean | p50 over raw |');
    lines.push('|---|---|---|---:|---:|---:|---:|');
    const verdicts: string[] = [];
    const stdoutLabel = { devnull: '/dev/null', pipe: 'drained pipe' };
    for (const scenario of scenarios) {
      for (const mode of ['devnull', 'pipe'] as const) {
        const r = warmRuns[mode]!.result.results[scenario.name];
        const raw = stats(r.raw);
        for (const name of ['raw', 'predict', 'handler', 'capture'] as const) {
          const s = stats(r[name]);
          const label = { raw: 'raw `session.run`', predict: 'request path (`predict`)', handler: 'Lambda handler', capture: 'handler, capture 100%' }[name];
          lines.push(`| ${scenario.name} | ${stdoutLabel[mode]} | ${label} | ${us(s.p50)} | ${us(s.p99)} | ${us(s.mean)} | `
            + `${name === 'raw' ? '' : `+${us(s.p50 - raw.p50)}`} |`);
        }
        const overhead = stats(r.handler).p50 - raw.p50;
        const captureOverhead = stats(r.capture).p50 - raw.p50;
        const captureCost = { p50: stats(r.capture).p50 - stats(r.handler).p50, p99: stats(r.capture).p99 - stats(r.handler).p99 };
        verdicts.push(`capture at 100%, ${scenario.name}, stdout ${stdoutLabel[mode]}: +${us(captureCost.p50)} at p50, `
          + `${captureCost.p99 >= 0 ? '+' : ''}${us(captureCost.p99)} at p99 over the handler with capture off (no network call)`);
        if (scenario.rows.length === 1) {
          verdicts.push(`handler overhead at p50, one example, stdout ${stdoutLabel[mode]}: ${us(overhead)} capture off, ${us(captureOverhead)} capture on `
            + `(goal ≤ ${GOAL_OVERHEAD_US} µs: ${overhead <= GOAL_OVERHEAD_US ? 'met' : 'NOT met'} off, ${captureOverhead <= GOAL_OVERHEAD_US ? 'met' : 'NOT met'} on)`);
        } else {
          verdicts.push(`for information, ${scenario.name}, stdout ${stdoutLabel[mode]}: the handler adds ${us(overhead)} at p50, `
            + `${us(overhead / scenario.rows.length)} per example (mostly JSON: parsing ${scenario.rows.length * 12} input numbers, `
            + `printing ${scenario.rows.length * 14} output numbers)`);
        }
      }
    }
    lines.push('');
    lines.push(`### Cold init (${COLD_RUNS} fresh processes)`);
    lines.push('');
    lines.push('Cumulative rows count from the first line of the process\'s script; Lambda\'s own runtime start and the download '
      + 'and extraction of the zip are not included.');
    lines.push('');
    lines.push('| phase | p50 | max |');
    lines.push('|---|---:|---:|');
    const coldRow = (label: string, values: number[]) => {
      const s = [...values].sort((a, b) => a - b);
      lines.push(`| ${label} | ${ms(percentile(s, 50))} | ${ms(s[s.length - 1])} |`);
    };
    coldRow('module load: `require` of the bundle (onnxruntime-node\'s native library, Powertools, the handler)', cold.map((c) => c.moduleLoad));
    coldRow('model read + SHA-256 (duration)', cold.map((c) => c.readMs + c.hashMs));
    coldRow('session creation (duration)', cold.map((c) => c.sessionMs));
    coldRow('**model ready**: module load + model read + session creation (cumulative)', cold.map((c) => c.modelReady));
    coldRow('first response: model ready + the first request (cumulative)', cold.map((c) => c.firstResponse));
    coldRow('whole process from spawn, including Node\'s own start (wall clock of the parent)', cold.map((c) => c.wallMs));
    const coldP50 = percentile(cold.map((c) => c.modelReady).sort((a, b) => a - b), 50);
    verdicts.push(`cold init (model ready) p50: ${ms(coldP50)} (goal < ${GOAL_COLD_MS} ms: ${coldP50 < GOAL_COLD_MS ? 'met' : 'NOT met'})`);
    lines.push('');
    lines.push('### Memory and size');
    lines.push('');
    lines.push('| measure | value |');
    lines.push('|---|---:|');
    const rss = warm.result.rss;
    lines.push(`| RSS of node before loading the handler | ${mib(rss.start)} |`);
    lines.push(`| RSS with the handler's session and the benchmark's raw session loaded | ${mib(rss.loaded)} |`);
    lines.push(`| RSS after all warm requests | ${mib(rss.end)} |`);
    lines.push(`| RSS after a cold start and one request (p50) | ${mib(percentile(cold.map((c) => c.rss).sort((a, b) => a - b), 50))} |`);
    lines.push(`| artifact unzipped: total (Lambda limit 250 MiB) | ${mib(artifact.sizes.total)} |`);
    lines.push(`| &nbsp;&nbsp;onnxruntime-node (linux-x64 only) + onnxruntime-common | ${mib(artifact.sizes.onnxruntime)} |`);
    lines.push(`| &nbsp;&nbsp;handler bundle (index.js) | ${(artifact.sizes.bundle / 1024).toFixed(0)} KiB |`);
    lines.push(`| &nbsp;&nbsp;model | ${(artifact.sizes.model / 1024).toFixed(1)} KiB |`);
    lines.push(`| artifact compressed (sum of gzip -9 per file, about the zip size) | ${mib(gzipBytes(artifact.dir))} |`);
    lines.push('');
    lines.push('Goals (issue 4) and the cost of capture (issue 14):');
    lines.push('');
    for (const v of verdicts) lines.push(`- ${v}`);
    const section = lines.join('\n') + '\n';

    process.stdout.write('\n' + section);
    if (WRITE) {
      const file = writeBenchmarkSection('ServerlessModelEndpoint', section);
      process.stderr.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    }
  } finally {
    artifact.remove();
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
