import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * What npm (and, through jsii, PyPI) users get: every relative `require` of the compiled library
 * resolves to a file inside the package, and the handler bundles the constructs stage are there.
 * (The package once left out LabelingPipeline's logic, which the construct compiles at synth.)
 * Needs the compiled library (`npx projen compile`, which `test:all` runs first).
 */
const ROOT = path.join(__dirname, '..');

const packed: string[] = (() => {
  if (!fs.existsSync(path.join(ROOT, 'lib', 'index.js'))) {
    throw new Error('lib/index.js is missing: run `npx projen compile` before this test (test:all does)');
  }
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
})();
const files = new Set(packed);

test('every relative require of the packaged library resolves inside the package', () => {
  const unresolved: string[] = [];
  for (const file of packed.filter((f) => f.startsWith('lib/') && f.endsWith('.js'))) {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const m of source.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
      if (![`${target}.js`, `${target}/index.js`, target].some((t) => files.has(t))) unresolved.push(`${file} -> ${m[1]}`);
    }
  }
  expect(unresolved).toEqual([]);
});

test('the handler bundles the constructs stage are packaged; sources, tests and examples are not', () => {
  for (const h of ['clean', 'label', 'review-api', 'review-record', 'dataset']) expect(files.has(`assets/labeling-pipeline/runtime/${h}.handler/index.js`)).toBe(true);
  expect(files.has('assets/serverless-model-endpoint/runtime/predict.handler/index.js')).toBe(true);
  expect(files.has('assets/secure-data-lake/runtime/upload-url.handler/index.js')).toBe(true);
  for (const bundle of [
    'serverless-model-endpoint/runtime/capture-writer', 'gpu-training-job/runtime/publish-model', 'model-monitor/runtime/drift',
    'model-promotion/runtime/check-candidate', 'model-promotion/runtime/approve', 'model-promotion/runtime/record-lineage', 'review-console/runtime/deploy',
  ]) expect(files.has(`assets/${bundle}.handler/index.js`)).toBe(true);
  // The lineage CLI (package.json `bin`): one self-contained file.
  expect(files.has('assets/lineage/runtime/cli/index.js')).toBe(true);
  expect(packed.filter((f) => /^(src|test|examples|python-tests)\//.test(f) || /\.lambda\.js$|\.handler\.js$/.test(f) && f.startsWith('lib/'))).toEqual([]);
  // Run-time code that only the bundles use is not shipped twice. What the constructs load at synth
  // is: the contracts (env names, packaged paths, metric names) and LabelingPipeline's logic (the
  // construct compiles cleaning rules and labelers with it).
  expect(packed.filter((f) => f.startsWith('lib/labeling-pipeline/runtime/') && !/^lib\/labeling-pipeline\/runtime\/(contract\.(js|d\.ts)|logic\/)/.test(f))).toEqual([]);
  expect(files.has('lib/labeling-pipeline/runtime/logic/cleaning.js')).toBe(true);
  expect(packed.filter((f) => f.startsWith('lib/lineage/'))).toEqual([]);
  expect(packed.filter((f) => /^lib\/(gpu-training-job|model-monitor|model-promotion)\/runtime\//.test(f) && !/\/runtime\/contract\.(js|d\.ts)$/.test(f))).toEqual([]);
  expect(packed.filter((f) => /^lib\/(secure-data-lake|serverless-model-endpoint|private)\/runtime\//.test(f)).sort()).toEqual([
    'lib/secure-data-lake/runtime/contract.d.ts',
    'lib/secure-data-lake/runtime/contract.js',
    'lib/serverless-model-endpoint/runtime/contract.d.ts',
    'lib/serverless-model-endpoint/runtime/contract.js',
  ]);
});
