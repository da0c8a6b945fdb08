// Check what `npx projen release:local` (or `release`) left in dist/: one npm tarball, one wheel
// and one sdist, all of the bumped version (dist/version.txt), the changelog entry and the tag;
// the tarball holds the compiled library and its handler bundles, not tests or sources. Prints
// the artifacts with their sizes. Exits non-zero on the first problem.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dist = 'dist';
const fail = (msg) => {
  console.error(`[release:check] error: ${msg}`);
  process.exit(1);
};
const read = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : fail(`${file} is missing (did bump run?)`));
const only = (dir, re, what) => {
  const found = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => re.test(f)) : [];
  if (found.length !== 1) fail(`expected one ${what} in ${dir}, found ${found.length}: ${found.join(', ') || 'none'}`);
  return path.join(dir, found[0]);
};
const kib = (file) => `${(fs.statSync(file).size / 1024).toFixed(1)} KiB`;

const version = read(path.join(dist, 'version.txt'));
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/.test(version)) fail(`dist/version.txt holds '${version}', not a semantic version`);
if (version === '0.0.0') fail('dist/version.txt is 0.0.0: the bump did not run');
const tag = read(path.join(dist, 'releasetag.txt'));
if (tag !== `v${version}`) fail(`dist/releasetag.txt is '${tag}', expected 'v${version}'`);
const changelog = read(path.join(dist, 'changelog.md'));
if (!changelog.includes(version)) fail(`dist/changelog.md does not mention ${version}`);

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const name = pkg.name;
const pyModule = pkg.jsii.targets.python.module;
const distName = pkg.jsii.targets.python.distName;
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const tgz = only(path.join(dist, 'js'), /\.tgz$/, 'npm tarball');
if (path.basename(tgz) !== `${name}@${version}.jsii.tgz`) fail(`${tgz} is not ${name}@${version}.jsii.tgz`);
const packed = JSON.parse(execFileSync('tar', ['-xOzf', tgz, 'package/package.json'], { encoding: 'utf8' }));
if (packed.version !== version) fail(`${tgz} holds version ${packed.version}, expected ${version}`);
const files = execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n').filter(Boolean);
for (const required of ['package/.jsii', 'package/lib/index.js', 'package/lib/index.d.ts', 'package/README.md', 'package/LICENSE']) {
  if (!files.includes(required)) fail(`${tgz} lacks ${required}`);
}
if (!files.some((f) => /^package\/assets\/.+\/index\.js$/.test(f))) fail(`${tgz} holds no bundled handler (assets/**/index.js)`);
const unwanted = files.filter((f) => /^package\/(src|test|examples|\.ci|python-tests)\//.test(f) || /\.onnx$/.test(f) || /\.node$/.test(f));
if (unwanted.length > 0) fail(`${tgz} ships files that do not belong in the package: ${unwanted.slice(0, 5).join(', ')}`);

const pyVersion = version.replace(/-/g, '');
const wheel = only(path.join(dist, 'python'), /\.whl$/, 'wheel');
const wheelName = new RegExp(`^${esc(distName.replace(/-/g, '_'))}-${esc(pyVersion)}-py3-none-any\\.whl$`);
if (!wheelName.test(path.basename(wheel))) fail(`${wheel} is not the wheel of ${distName} ${pyVersion}`);
const sdist = only(path.join(dist, 'python'), /\.tar\.gz$/, 'sdist');
const sdistName = new RegExp(`^${esc(distName.replace(/-/g, '_'))}-${esc(pyVersion)}\\.tar\\.gz$`);
if (!sdistName.test(path.basename(sdist))) fail(`${sdist} is not the sdist of ${distName} ${pyVersion}`);

console.log(`[release:check] ${name} ${version} (tag ${tag}, python module ${pyModule}):`);
console.log(`[release:check]   ${tgz}  ${kib(tgz)}  (${files.length} files)`);
console.log(`[release:check]   ${wheel}  ${kib(wheel)}`);
console.log(`[release:check]   ${sdist}  ${kib(sdist)}`);
console.log(`[release:check]   dist/changelog.md:`);
for (const line of changelog.split('\n').slice(0, 12)) console.log(`[release:check]     ${line}`);
