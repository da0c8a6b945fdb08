// Write test-reports/registry-roundtrip.json from the round trip's check and timing lists
// (tab-separated, written by .ci/registry-roundtrip.sh). .ci/summary.js counts its checks.
//
//   node write-result.js CHECKS.tsv TIMINGS.tsv OUT.json VERSION SECONDS SIZES_JSON
const fs = require('node:fs');

const [checksFile, timingsFile, out, version, seconds, sizes] = process.argv.slice(2);
const rows = (file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
const checks = rows(checksFile).map(([name, status, secs, detail]) => ({
  name, passed: status === 'ok', seconds: Number(secs), ...(detail ? { detail } : {}),
}));
const timings = rows(timingsFile).map(([what, secs]) => ({ what, seconds: Number(secs) }));
const result = {
  version: version || null,
  wallSeconds: Number(seconds),
  passed: checks.filter((c) => c.passed).length,
  failed: checks.filter((c) => !c.passed).length,
  artifacts: JSON.parse(sizes || '{}'),
  checks,
  timings,
};
fs.writeFileSync(out, `${JSON.stringify(result, undefined, 2)}\n`);
