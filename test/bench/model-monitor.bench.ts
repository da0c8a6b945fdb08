/**
 * ModelMonitor benchmark: captured predictions per second through the drift job on one core, in
 * process, without a network: the whole run (listing, streaming the capture objects line by line,
 * validating each line, grouping by model, the reservoir, `evaluateDrift` against a baseline of
 * 5000 reference rows, the run report as JSON and HTML, metrics) over an in-memory S3
 * (test/model-monitor/monitor-world.ts), side by side with the floor `JSON.parse` of the same lines
 * alone. One prediction per capture line (one example per request: the most lines per
 * prediction), 12 numeric features, 5000 lines per capture object.
 *
 *   npx ts-node --project tsconfig.dev.json test/bench/model-monitor.bench.ts [--rounds N] [--sizes 10000,100000] [--no-write]
 *
 * Prints a markdown section and writes it into BENCHMARKS.md under "## ModelMonitor" (replacing
 * that section, keeping the others).
 */
import * as os from 'node:os';
import { benchArgs, writeBenchmarkSection } from './benchmarks-file';
import { MONITORING_KEYS } from '../../src/contract/monitoring';
import { createDriftJob } from '../../src/model-monitor/runtime/drift-job';
import { SeededRandom } from '../../src/model-monitor/runtime/logic';
import {
  BUCKET, captureKey, captureLine, drawFeatures, KEY_ARN, makeBaseline, MemoryS3, monitorConfig, recordingEvents, SHA_A,
} from '../model-monitor/monitor-world';

const args = benchArgs();
const ROUNDS = args.value('--rounds', 5);
const SIZES = (process.argv.includes('--sizes') ? process.argv[process.argv.indexOf('--sizes') + 1] : '10000,100000').split(',').map(Number);
const WRITE = !args.has('--no-write');
const LINES_PER_OBJECT = 5000;
const END = new Date('2026-03-02T00:00:00Z');
const HOUR = 3_600_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

interface World {
  readonly s3: MemoryS3;
  readonly lines: string[];
  readonly bytes: number;
}

function world(n: number): World {
  const s3 = new MemoryS3();
  s3.put(MONITORING_KEYS.baseline(SHA_A), JSON.stringify(makeBaseline(SHA_A)));
  const random = new SeededRandom(n);
  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const at = new Date(END.getTime() - 24 * HOUR + Math.floor((i / n) * 24 * HOUR));
    const { line } = captureLine(at, SHA_A, [drawFeatures(random, i % 2 ? { 'left.2000': 0.2 } : {})], random);
    lines.push(line);
    bytes += line.length + 1;
  }
  // One object per hour and LINES_PER_OBJECT lines.
  const byHour = new Map<number, string[]>();
  lines.forEach((l, i) => {
    const hour = Math.floor((END.getTime() - 24 * HOUR + Math.floor((i / n) * 24 * HOUR)) / HOUR) * HOUR;
    const list = byHour.get(hour) ?? [];
    list.push(l);
    byHour.set(hour, list);
  });
  for (const [hour, hourLines] of byHour) {
    for (let j = 0; j < hourLines.length; j += LINES_PER_OBJECT) {
      s3.put(captureKey('hearing-who@1', new Date(hour), `o-${j}`), hourLines.slice(j, j + LINES_PER_OBJECT).join('\n') + '\n');
    }
  }
  return { s3, lines, bytes };
}

async function jobOnce(w: World): Promise<number> {
  const run = createDriftJob({
    s3: w.s3.api,
    events: recordingEvents().api,
    env: { modelsBucket: BUCKET, lakeKeyArn: KEY_ARN, eventBusName: 'default' },
    config: monitorConfig({ maxRowsPerModel: 1_000_000 }),
    writeMetrics: () => undefined,
    readConcurrency: 1,
  });
  const t = process.hrtime.bigint();
  const s = await run({ windowEnd: END.toISOString() });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (s.rowsEvaluated !== w.lines.length) throw new Error(`evaluated ${s.rowsEvaluated} of ${w.lines.length}`);
  return seconds;
}

function floorOnce(w: World): number {
  const t = process.hrtime.bigint();
  let sink = 0;
  for (const l of w.lines) sink += (JSON.parse(l) as { inputs: unknown[] }).inputs ? 1 : 0;
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (sink !== w.lines.length) throw new Error('floor');
  return seconds;
}

async function main() {
  const rows: string[] = [];
  for (const n of SIZES) {
    const w = world(n);
    await jobOnce(w); // warm-up
    floorOnce(w);
    const job: number[] = [];
    const floor: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate which path goes first.
      if (r % 2 === 0) {
        job.push(await jobOnce(w));
        floor.push(floorOnce(w));
      } else {
        floor.push(floorOnce(w));
        job.push(await jobOnce(w));
      }
    }
    const jobRate = n / median(job);
    const floorRate = n / median(floor);
    rows.push(`| ${fmt(n)} | ${fmt(w.bytes / n)} | ${fmt(jobRate)} (best ${fmt(n / Math.min(...job))}) | ${fmt(floorRate)} | ${(jobRate / floorRate).toFixed(2)} | ${median(job).toFixed(2)} s |`);
    console.log(rows[rows.length - 1]);
  }
  const section = [
    '## ModelMonitor',
    '',
    `Drift job throughput, captured predictions per second on one core (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ts-node, `
      + 'one process): the whole run over an in-memory S3 (list, stream and validate the lines, group by model, evaluate the drift of 12 features and the '
      + `predicted class against a 5000-row baseline, write the JSON and HTML report), one prediction per capture line, ${fmt(LINES_PER_OBJECT)} lines per object; `
      + `median of ${ROUNDS} rounds after a warm-up, the two paths alternating. Floor: \`JSON.parse\` of the same lines alone.`,
    '',
    '| predictions | bytes per line | drift job (predictions/s) | floor: JSON.parse (lines/s) | job / floor | job time per window |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    'On Lambda the reads are S3 GETs (8 objects at a time): the figure is the CPU bound of one run; a window of a million predictions needs about a '
      + 'million ÷ this rate seconds of CPU plus the S3 transfer, within the 15-minute timeout at the default 2048 MB. Memory is bounded by '
      + 'maxRowsPerModel (100,000 examples by default; beyond it a uniform sample is evaluated).',
  ].join('\n');
  console.log(`\n${section}`);
  if (WRITE) console.log(`written to ${writeBenchmarkSection('ModelMonitor', section)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
