/**
 * The main job (README: `npx projen main`): synthesize the reference MLOps app into cdk.out/ (the
 * aws-cdk-lib CloudFormation validator on), print what it holds, then run the whole loop locally
 * against moto_server from that cloud assembly (local/run.ts). Exits 1 when the local run's
 * reconciliation does not hold.
 *
 *   npx ts-node --project tsconfig.dev.json examples/reference-app/main.ts [--count 240] [--seed 7] [--epochs N]
 */
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ReferenceAppStack } from './app';
import { runLocalEndToEnd } from './local/run';

async function main(argv: string[]): Promise<number> {
  const a: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) a[argv[i].replace(/^--/, '')] = argv[i + 1];
  const repo = path.join(__dirname, '..', '..');
  const outdir = path.join(repo, 'cdk.out');
  const app = new App({ outdir, context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  const stack = new ReferenceAppStack(app, 'HearingTestApp', { env: { account: '111111111111', region: 'eu-central-1' } });
  const started = Date.now();
  const assembly = app.synth();
  const template = assembly.getStackArtifact(stack.artifactId).template;
  const counts: Record<string, number> = {};
  for (const r of Object.values<any>(template.Resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  console.log(`synthesized ${stack.stackName} (${Object.keys(template.Resources).length} resources) in ${Date.now() - started} ms -> ${path.relative(process.cwd(), assembly.directory)}`);
  for (const [type, n] of Object.entries(counts).sort()) console.log(`  ${String(n).padStart(3)}  ${type}`);

  return runLocalEndToEnd({
    count: Number(a.count ?? 800),
    seed: Number(a.seed ?? 7),
    epochs: Number(a.epochs ?? 0),
    python: a.python ?? '/usr/bin/python3',
    out: path.join(outdir, 'local-run'),
    assembly: { directory: assembly.directory, artifactId: stack.artifactId },
  });
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(1);
});
