/**
 * The main job (for now): synthesize the reference stack with the secure data lake and its
 * upload route into cdk.out/, and print what was produced. Later issues extend this into the
 * whole reference MLOps app and the local end-to-end run.
 */
import * as path from 'node:path';
import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { SecureDataLake, SecureUploadApi } from '../../src';

/** The reference stack: a data lake for hearing-test results and its upload route. */
export class ReferenceLakeStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const lake = new SecureDataLake(this, 'Lake', {
      dataEventsTrail: {},
    });
    new SecureUploadApi(this, 'Uploads', {
      lake,
      allowedOrigins: ['https://hearing-test.example.com'],
    });
  }
}

if (require.main === module) {
  const outdir = path.join(__dirname, '..', '..', 'cdk.out');
  const app = new App({ outdir, context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  const stack = new ReferenceLakeStack(app, 'HearingTestLake', {
    env: { account: '111111111111', region: 'eu-central-1' },
  });
  const started = Date.now();
  const assembly = app.synth();
  const template = assembly.getStackArtifact(stack.artifactId).template;
  const counts: Record<string, number> = {};
  for (const r of Object.values<any>(template.Resources)) {
    counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  }
  console.log(`synthesized ${stack.stackName} in ${Date.now() - started} ms -> ${path.relative(process.cwd(), assembly.directory)}`);
  for (const [type, n] of Object.entries(counts).sort()) {
    console.log(`  ${String(n).padStart(3)}  ${type}`);
  }
}
