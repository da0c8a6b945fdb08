// Check an app's install of cdk-secure-mlops: the lockfile's integrity is the published tarball's,
// and the local registry serves exactly that tarball for the version (and `resolved`, when npm
// writes it, points at the local registry). Our package has no uplink in Verdaccio's config, so it
// cannot come from anywhere else. Prints what it checked.
//
//   node npm-origin.js APP_DIR REGISTRY_URL TARBALL
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const [dir, registry, tgz] = process.argv.slice(2);
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};
const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
const entry = lock.packages['node_modules/cdk-secure-mlops'] ?? fail('cdk-secure-mlops is not in package-lock.json');
const integrity = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tgz)).digest('base64')}`;
if (entry.resolved && !entry.resolved.startsWith(registry)) fail(`resolved from ${entry.resolved}, not from ${registry}`);
if (entry.integrity !== integrity) fail(`lockfile integrity ${entry.integrity} differs from the published tarball's ${integrity}`);
fetch(`${registry}cdk-secure-mlops`).then(async (res) => {
  if (!res.ok) fail(`the registry answered ${res.status} for cdk-secure-mlops`);
  const served = (await res.json()).versions?.[entry.version]?.dist;
  if (served?.integrity !== integrity) fail(`the registry serves ${served?.integrity} for ${entry.version}, not the published tarball`);
  console.log(`${entry.resolved ?? `${registry}cdk-secure-mlops/-/cdk-secure-mlops-${entry.version}.tgz`} (integrity ${integrity.slice(0, 19)}... = the published tarball)`);
}, (e) => fail(`could not ask the registry: ${e.message}`));
