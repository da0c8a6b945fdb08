/**
 * Synthesize the canonical Python-parity configuration from TypeScript and write its template.
 *
 *   ts-node --project test/tsconfig.json test/python-parity/emit-template.ts <outfile>
 *
 * `.ci/python-tests.sh` runs this; `python-tests/test_secure_data_lake.py` synthesizes the same
 * configuration through the Python wheel and requires both templates to be identical once asset
 * hashes and metadata are normalized. Keep the two in step: same stack name, env and construct ids.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SecureDataLake, SecureUploadApi } from '../../src';

/** Mirrors `CANONICAL_STACK_NAME` and `CANONICAL_ENV` in python-tests/canonical.py. */
const CANONICAL_STACK_NAME = 'PythonParity';
const CANONICAL_ENV = { account: '111111111111', region: 'eu-central-1' };

function main(outFile: string | undefined): void {
  if (!outFile) {
    throw new Error('usage: ts-node --project test/tsconfig.json test/python-parity/emit-template.ts <outfile>');
  }
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'python-parity-ts-'));
  try {
    const app = new App({ outdir });
    const stack = new Stack(app, CANONICAL_STACK_NAME, { env: CANONICAL_ENV });
    const lake = new SecureDataLake(stack, 'Lake');
    new SecureUploadApi(stack, 'Uploads', { lake });
    const template = Template.fromStack(stack).toJSON();
    fs.mkdirSync(path.dirname(path.resolve(outFile)), { recursive: true });
    fs.writeFileSync(outFile, JSON.stringify(template, null, 2) + '\n');
    console.log(`emit-template: wrote ${outFile} (${Object.keys(template.Resources ?? {}).length} resources)`);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

main(process.argv[2]);
