/**
 * Lineage queries from a shell (docs/lineage.md):
 *
 *   node lib/lineage/cli.js prediction <inferenceId> [--endpoint <captureName>] [--json]
 *   node lib/lineage/cli.js subject <pseudonym> [--json]
 *
 * Buckets: `--lineage-bucket` (curated zone; env LINEAGE_BUCKET) and `--captures-bucket` (models
 * zone; env CAPTURES_BUCKET). Region and credentials as the AWS SDK finds them; AWS_ENDPOINT_URL
 * points it at moto for the local run (an IP-literal endpoint gets path-style addressing).
 * Exit codes: 0 found, 1 not found (LineageNotFound), 2 usage, 3 any other error.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { LineageNotFoundError, lineageOfPrediction, LineageStore, PredictionLineage, SubjectFootprint, subjectFootprint } from './query';

/** Parsed command line. */
export interface CliArgs {
  readonly command: 'prediction' | 'subject';
  readonly id: string;
  readonly endpoint?: string;
  readonly lineageBucket: string;
  readonly capturesBucket: string;
  readonly json: boolean;
}

export const USAGE = `usage:
  lineage prediction <inferenceId> [--endpoint <captureName>] [--json]
  lineage subject <pseudonym> [--json]
options: --lineage-bucket <curated bucket> (env LINEAGE_BUCKET), --captures-bucket <models bucket> (env CAPTURES_BUCKET)`;

/** Parse argv (without node and the script); throws an Error with the usage on bad input. */
export function parseCliArgs(argv: readonly string[], env: Record<string, string | undefined>): CliArgs {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') {flags.json = true;} else if (a.startsWith('--')) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value\n${USAGE}`);
      flags[a.slice(2)] = v;
      i++;
    } else {positional.push(a);}
  }
  const known = new Set(['json', 'endpoint', 'lineage-bucket', 'captures-bucket']);
  const unknown = Object.keys(flags).filter((f) => !known.has(f));
  if (unknown.length) throw new Error(`unknown option --${unknown[0]}\n${USAGE}`);
  const [command, id, ...rest] = positional;
  if ((command !== 'prediction' && command !== 'subject') || !id || rest.length) throw new Error(USAGE);
  const lineageBucket = (flags['lineage-bucket'] as string | undefined) ?? env.LINEAGE_BUCKET;
  const capturesBucket = (flags['captures-bucket'] as string | undefined) ?? env.CAPTURES_BUCKET;
  if (!lineageBucket) throw new Error(`set --lineage-bucket or LINEAGE_BUCKET\n${USAGE}`);
  if (command === 'prediction' && !capturesBucket) throw new Error(`set --captures-bucket or CAPTURES_BUCKET\n${USAGE}`);
  return {
    command,
    id,
    ...(typeof flags.endpoint === 'string' ? { endpoint: flags.endpoint } : {}),
    lineageBucket,
    capturesBucket: capturesBucket ?? '',
    json: flags.json === true,
  };
}

/** A readable tree of a prediction's lineage. */
export function formatPredictionLineage(l: PredictionLineage): string {
  const out = [
    `prediction ${l.inferenceId} (${l.predictedAt})`,
    `└─ served by endpoint ${l.capture.endpoint}, model version ${l.capture.modelVersion} (sha256 ${l.capture.modelSha256.slice(0, 12)}…)`,
  ];
  for (const m of l.models) out.push(`   └─ trained by ${m.trainingJobName} (run ${m.training.runId}) → s3 ${m.dataset.namespace}/${m.dataset.name}`);
  for (const d of l.datasetVersions) {
    out.push(`      └─ on dataset version ${d.datasetVersion} (${d.published ? 'published' : 'blocked'}, run ${d.build.runId}): ${d.recordCount} source records`);
    for (const r of d.records) out.push(`         • ${r.recordId}${r.sourceVersionId ? ` @ ${r.sourceVersionId}` : ''}`);
  }
  for (const p of l.promotions) out.push(`   └─ promoted to ${p.endpoint} as ${p.modelVersion} (${p.promotion.eventTime})`);
  return out.join('\n');
}

/** A readable summary of a subject's footprint. */
export function formatSubjectFootprint(f: SubjectFootprint): string {
  const out = [`subject ${f.subject}`, `├─ records (${f.records.length})`];
  for (const r of f.records) out.push(`│  • ${r.recordId}${r.sourceVersionId ? ` @ ${r.sourceVersionId}` : ''} in ${r.datasetVersions.join(', ')}`);
  out.push(`├─ dataset versions (${f.datasetVersions.length})`);
  for (const d of f.datasetVersions) out.push(`│  • ${d.datasetVersion} (${d.published ? 'published' : 'blocked'}): ${d.recordIds.length} of the subject's records`);
  out.push(`├─ models trained on them (${f.models.length})`);
  for (const m of f.models) out.push(`│  • ${m.model} ${m.trainingJobName} sha256 ${m.sha256.slice(0, 12)}… (dataset ${m.datasetVersion})`);
  out.push(`└─ endpoint versions serving those models (${f.endpoints.length})`);
  for (const e of f.endpoints) out.push(`   • ${e.endpoint} ${e.modelVersion}`);
  return out.join('\n');
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: readonly string[], deps: {
  readonly env: Record<string, string | undefined>;
  readonly s3?: S3Client;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
}): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv, deps.env);
  } catch (e) {
    deps.stderr((e as Error).message + '\n');
    return 2;
  }
  const store: LineageStore = { s3: deps.s3 ?? new S3Client({}), lineageBucket: args.lineageBucket, capturesBucket: args.capturesBucket };
  try {
    if (args.command === 'prediction') {
      const l = await lineageOfPrediction(store, { inferenceId: args.id, ...(args.endpoint ? { endpoint: args.endpoint } : {}) });
      deps.stdout((args.json ? JSON.stringify(l, null, 2) : formatPredictionLineage(l)) + '\n');
    } else {
      const f = await subjectFootprint(store, args.id);
      deps.stdout((args.json ? JSON.stringify(f, null, 2) : formatSubjectFootprint(f)) + '\n');
    }
    return 0;
  } catch (e) {
    deps.stderr(`${(e as Error).name}: ${(e as Error).message}\n`);
    return e instanceof LineageNotFoundError ? 1 : 3;
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2), {
    env: process.env,
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  }).then((code) => {
    process.exitCode = code;
  });
}
