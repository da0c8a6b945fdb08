/**
 * Jest setup file for refactors: with TEMPLATE_DUMP_DIR set, every CloudFormation template that a
 * test synthesizes is written there (one file per test, stack artifact and synthesis), so that
 * test/tools/compare-templates.ts can compare the templates of two trees. Loaded with
 * `jest --setupFilesAfterEnv ./test/support/template-dump.ts`; without the variable it does nothing.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Stage } from 'aws-cdk-lib';

const dir = process.env.TEMPLATE_DUMP_DIR;
if (dir) {
  const root = path.resolve(__dirname, '..', '..');
  const seen = new Map<string, number>();
  const synth = Stage.prototype.synth;
  Stage.prototype.synth = function dumpingSynth(this: Stage, options?: Parameters<Stage['synth']>[0]) {
    const assembly = synth.call(this, options);
    const state = expect.getState();
    const test = `${path.relative(root, state.testPath ?? 'unknown')} :: ${state.currentTestName ?? '(file scope)'}`;
    for (const stack of assembly.stacksRecursively) {
      const key = `${test} :: ${stack.hierarchicalId}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      const file = `${createHash('sha256').update(`${key} #${n}`).digest('hex').slice(0, 24)}.json`;
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, file), JSON.stringify(stack.template, undefined, 1));
      fs.appendFileSync(path.join(dir, 'index.jsonl'), JSON.stringify({ key, n, file }) + '\n');
    }
    return assembly;
  };
}
