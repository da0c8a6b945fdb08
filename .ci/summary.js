// Print one closing line for the whole run from the reports the test runners wrote:
// jest (test-reports/jest.json), pytest (test-reports/pytest.xml), the main job's local
// end-to-end run (cdk.out/local-run/report.json) and the registry round trip with the consumer
// harness (test-reports/registry-roundtrip.json, one entry per check).
const fs = require('node:fs');

let passed = 0;
let failed = 0;
let skipped = 0;
const parts = [];

if (fs.existsSync('test-reports/jest.json')) {
  const jest = JSON.parse(fs.readFileSync('test-reports/jest.json', 'utf8'));
  passed += jest.numPassedTests;
  failed += jest.numFailedTests;
  skipped += jest.numPendingTests + jest.numTodoTests;
  parts.push(`jest ${jest.numPassedTests}/${jest.numTotalTests}`);
} else {
  parts.push('jest: no report');
  failed += 1;
}
if (fs.existsSync('test-reports/pytest.xml')) {
  const xml = fs.readFileSync('test-reports/pytest.xml', 'utf8');
  const suite = /<testsuite\b[^>]*>/.exec(xml)?.[0] ?? '';
  const attr = (name) => Number((new RegExp(`\\b${name}="(\\d+)"`).exec(suite) ?? [])[1] ?? 0);
  const total = attr('tests');
  const bad = attr('failures') + attr('errors');
  const skip = attr('skipped');
  passed += total - bad - skip;
  failed += bad;
  skipped += skip;
  parts.push(`pytest ${total - bad - skip}/${total}`);
} else {
  parts.push('pytest: no report');
  failed += 1;
}
// The main job's local end-to-end run (cdk.out/local-run/report.json) counts as one test.
const e2e = 'cdk.out/local-run/report.json';
if (fs.existsSync(e2e)) {
  const report = JSON.parse(fs.readFileSync(e2e, 'utf8'));
  const ok = report.reconciled && report.logs.linesWithAPatientIdentifier === 0 && report.testSplit.examples > 0;
  if (ok) passed += 1; else failed += 1;
  parts.push(`end-to-end ${ok ? 'reconciled' : 'NOT reconciled'}: ${report.reconciliation}`);
} else {
  parts.push('end-to-end: no report');
  failed += 1;
}
// The registry round trip: each of its checks counts (publish, refusal of a second publish,
// installs, quick starts, consumer configurations, no orphaned servers).
const registry = 'test-reports/registry-roundtrip.json';
if (fs.existsSync(registry)) {
  const report = JSON.parse(fs.readFileSync(registry, 'utf8'));
  passed += report.passed;
  failed += report.failed;
  parts.push(`registry round trip ${report.passed}/${report.passed + report.failed} (${report.version ?? 'no version'}, ${report.wallSeconds} s)`);
} else {
  parts.push('registry round trip: no report');
  failed += 1;
}
console.log(`(${parts.join(', ')})`);
console.log(`summary: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
