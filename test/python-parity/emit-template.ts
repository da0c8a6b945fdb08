/**
 * Synthesize the Python-parity configurations from TypeScript and write their templates.
 *
 *   ts-node --project tsconfig.dev.json test/python-parity/emit-template.ts <outfile> [<reference-outfile>]
 *
 * `.ci/python-tests.sh` runs this; pytest synthesizes the same configurations through the Python
 * wheel and compares:
 *
 *   <outfile>            the canonical SecureDataLake + SecureUploadApi stack
 *                        (python-tests/test_secure_data_lake.py: identical once asset hashes and
 *                        metadata are normalized);
 *   <reference-outfile>  the reference app, `ReferenceAppStack` of examples/reference-app/app.ts
 *                        (python-tests/test_reference_app.py against python-tests/reference_app.py).
 *                        Default: `ReferenceApp.template.json` next to <outfile>, where
 *                        python-tests/conftest.py looks for it.
 *
 * Keep each in step with its Python side: same stack name, env, context and construct ids
 * (python-tests/canonical.py).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ReferenceAppStack } from '../../examples/reference-app/app';
import { SecureDataLake, SecureUploadApi } from '../../src';

/** Mirrors `CANONICAL_STACK_NAME` and `CANONICAL_ENV` in python-tests/canonical.py. */
const CANONICAL_STACK_NAME = 'PythonParity';
const CANONICAL_ENV = { account: '111111111111', region: 'eu-central-1' };
/** Mirrors `REFERENCE_STACK_NAME` in python-tests/canonical.py (the env is CANONICAL_ENV). */
const REFERENCE_STACK_NAME = 'HearingTestApp';
/** Mirrors `REFERENCE_TEMPLATE_FILE` in python-tests/canonical.py. */
const REFERENCE_TEMPLATE_FILE = 'ReferenceApp.template.json';

function write(outFile: string, template: { [key: string]: any }, what: string, ms: number): void {
  fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify(template, null, 2) + '\n');
  console.log(`emit-template: wrote ${outFile} (${what}: ${Object.keys(template.Resources ?? {}).length} resources, synthesized in ${ms} ms)`);
}

/** Synthesize a fresh app in a temporary outdir; the stack comes from `build`. */
function synth(build: (app: App) => Stack): { [key: string]: any } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'python-parity-ts-'));
  try {
    const app = new App({ outdir });
    return Template.fromStack(build(app)).toJSON();
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function main(outFile: string | undefined, referenceOutFile: string | undefined): void {
  if (!outFile) {
    throw new Error('usage: ts-node --project tsconfig.dev.json test/python-parity/emit-template.ts <outfile> [<reference-outfile>]');
  }
  let started = Date.now();
  const canonical = synth((app) => {
    const stack = new Stack(app, CANONICAL_STACK_NAME, { env: CANONICAL_ENV });
    const lake = new SecureDataLake(stack, 'Lake');
    new SecureUploadApi(stack, 'Uploads', { lake });
    return stack;
  });
  write(outFile, canonical, CANONICAL_STACK_NAME, Date.now() - started);

  started = Date.now();
  const reference = synth((app) => new ReferenceAppStack(app, REFERENCE_STACK_NAME, { env: CANONICAL_ENV }));
  write(referenceOutFile ?? path.join(path.dirname(outFile), REFERENCE_TEMPLATE_FILE), reference, REFERENCE_STACK_NAME, Date.now() - started);
}

main(process.argv[2], process.argv[3]);
