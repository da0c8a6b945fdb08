// Merge the consumer harness results (one per aws-cdk-lib version, written by app.ts) into
// test-reports/consumer-findings.json, print a table, and add the harness's checks to the round
// trip's check list:
//   - each configuration synthesizes (always gating);
//   - in each configuration, each of the user's non-compliant resources is flagged (always gating);
//   - with CONSUMER_GATE=1: no unacknowledged finding on the library's resources.
//
//   node report.js OUT.json CHECKS.tsv LABEL=result.json [LABEL=result.json ...]
const fs = require('node:fs');

const [out, checksFile, ...inputs] = process.argv.slice(2);
const gate = process.env.CONSUMER_GATE === '1';
const runs = inputs.map((arg) => {
  const [label, file] = [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)];
  return { label, ...JSON.parse(fs.readFileSync(file, 'utf8')) };
});

const checks = [];
const check = (name, passed, detail) => checks.push([name, passed ? 'ok' : 'failed', '0', detail ?? ''].join('\t'));
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

const lines = [];
const pad = (s, n) => String(s).padEnd(n);
const num = (s, n) => String(s).padStart(n);
lines.push(`consumer findings (what a user's own cdk-nag 3 + CloudFormation validator run reports; lib = on cdk-secure-mlops' resources, user = on the user's own)${gate ? '' : ' [report only: CONSUMER_GATE=1 gates on lib unacknowledged]'}`);
lines.push(`${pad('aws-cdk-lib', 20)}${pad('configuration', 26)}${pad('scanner', 26)}${num('lib unack', 10)}${num('lib ack', 9)}${num('user', 7)}`);
for (const run of runs) {
  const cdk = `${run.label} ${run.versions['aws-cdk-lib']}`;
  for (const r of run.results) {
    const config = `${r.configuration}/${r.environment}`;
    const prefix = `consumer[${run.label} aws-cdk-lib ${run.versions['aws-cdk-lib']}] ${config}`;
    check(`${prefix}: synthesizes`, r.synth === 'ok', r.synth === 'ok' ? `${r.seconds.toFixed(1)} s` : r.error);
    if (r.synth !== 'ok') {
      lines.push(`${pad(cdk, 20)}${pad(config, 26)}SYNTH ERROR: ${r.error}`);
      continue;
    }
    let libUnack = 0;
    for (const scanner of run.scanners) {
      const c = r.counts[scanner];
      libUnack += c.library.unacknowledged;
      lines.push(`${pad(cdk, 20)}${pad(config, 26)}${pad(scanner, 26)}${num(c.library.unacknowledged, 10)}${num(c.library.acknowledged, 9)}${num(c.user.unacknowledged, 7)}`);
    }
    const notFlagged = Object.entries(r.userResourcesFlagged).filter(([, n]) => n === 0).map(([what]) => what);
    check(`${prefix}: the user's non-compliant resources are flagged`, notFlagged.length === 0,
      notFlagged.length === 0
        ? Object.entries(r.userResourcesFlagged).map(([what, n]) => `${what} ${n}`).join(', ')
        : `not flagged: ${notFlagged.join(', ')}`);
    if (gate) {
      const top = Object.entries(r.libraryRules).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([id, n]) => `${id} ${n}`).join(', ');
      check(`${prefix}: 0 unacknowledged findings on library resources`, libUnack === 0, `${libUnack}${libUnack ? ` (most: ${top})` : ''}`);
    }
  }
}
console.log(lines.join('\n'));

const summary = runs.map((run) => ({
  label: run.label,
  versions: run.versions,
  configurations: run.results.map((r) => ({
    configuration: r.configuration,
    environment: r.environment,
    stack: r.stack,
    synth: r.synth,
    ...(r.error ? { error: r.error } : {}),
    seconds: r.seconds,
    ...(r.counts ? {
      perScanner: r.counts,
      libraryUnacknowledged: sum(run.scanners.map((s) => r.counts[s].library.unacknowledged)),
      libraryAcknowledged: sum(run.scanners.map((s) => r.counts[s].library.acknowledged)),
      user: sum(run.scanners.map((s) => r.counts[s].user.unacknowledged)),
      userResourcesFlagged: r.userResourcesFlagged,
      libraryRules: r.libraryRules,
      findings: r.findings,
    } : {}),
  })),
}));
fs.writeFileSync(out, `${JSON.stringify({ gate, userResources: runs[0]?.userResources, runs: summary }, undefined, 2)}\n`);
fs.appendFileSync(checksFile, checks.map((c) => `${c}\n`).join(''));
for (const c of checks) {
  const [name, status, , detail] = c.split('\t');
  console.log(`[registry] ${status === 'ok' ? 'ok    ' : 'FAILED'} ${name}${detail ? `: ${detail}` : ''}`);
}
