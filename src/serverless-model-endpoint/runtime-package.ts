import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ONNXRUNTIME_PACKAGES, ONNXRUNTIME_VERSION } from './onnxruntime-integrity';
import { PACKAGED_MODEL_DIR, PACKAGED_MODEL_FILE } from './runtime/contract';
import { bundleDir, privateStagingDir } from '../private/function-code';

export { ONNXRUNTIME_VERSION };

type RuntimePackage = keyof typeof ONNXRUNTIME_PACKAGES;
const RUNTIME_PACKAGES = Object.keys(ONNXRUNTIME_PACKAGES) as RuntimePackage[];

/** @internal */
export interface StageOptions {
  /** `x64` or `arm64`. */
  readonly arch: string;
  /** A model file to include as `model/model.onnx` (`PACKAGED_MODEL_PATH`). */
  readonly modelFile?: string;
}

/**
 * Where onnxruntime-node and onnxruntime-common come from. Tests replace the defaults.
 *
 * @internal
 */
export interface RuntimeSources {
  /**
   * Directories whose `node_modules` may hold the packages at the pinned version.
   *
   * @default - the working directory and this library's directory
   */
  readonly searchFrom?: string[];
  /**
   * Fetch the registry tarball of a package spec (`onnxruntime-node@1.30.0`) into `destination`
   * (an empty private directory) and return the tarball's path.
   *
   * @default - `npm pack` (the user's npm registry and cache, install scripts off)
   */
  readonly pack?: (spec: string, destination: string) => string;
}

/** `x64` or `arm64`, from a Lambda architecture. */
export function nodeArch(architecture: lambda.Architecture): string {
  return architecture.name === lambda.Architecture.ARM_64.name ? 'arm64' : 'x64';
}

/**
 * The deterministic hash of a package: the handler bundle, the runtime version, the platform and
 * the model. Tests can synthesize without staging, and a new model is a new asset.
 *
 * @internal
 */
export function packageHash(options: StageOptions, modelSha256: string): string {
  const hash = createHash('sha256');
  hash.update(fs.readFileSync(path.join(predictBundleDir(), 'index.js')));
  hash.update(`\0onnxruntime-node@${ONNXRUNTIME_VERSION}\0linux/${options.arch}\0${modelSha256}`);
  return hash.digest('hex');
}

/**
 * Write the Lambda package into `outDir`: the handler bundle, onnxruntime-node for linux and
 * the one target architecture only (plus onnxruntime-common), and the model if it is packaged.
 *
 * @internal
 */
export function stagePackage(outDir: string, options: StageOptions, sources: RuntimeSources = {}): void {
  fs.mkdirSync(outDir, { recursive: true });
  fs.copyFileSync(path.join(predictBundleDir(), 'index.js'), path.join(outDir, 'index.js'));
  if (options.modelFile) {
    fs.mkdirSync(path.join(outDir, PACKAGED_MODEL_DIR), { recursive: true });
    fs.copyFileSync(options.modelFile, path.join(outDir, PACKAGED_MODEL_DIR, PACKAGED_MODEL_FILE));
  }
  stageRuntimeModules(path.join(outDir, 'node_modules'), options.arch, sources);
}

/**
 * Write onnxruntime-node and onnxruntime-common into `nodeModulesDir`: exactly the pinned files
 * (linux binaries of `arch` only), each read once, checked against its pinned SHA-256 and written
 * from the bytes that were checked. Whatever else the source directory holds is never copied.
 *
 * @internal
 */
export function stageRuntimeModules(nodeModulesDir: string, arch: string, sources: RuntimeSources = {}): void {
  const files = (name: RuntimePackage) => Object.entries(ONNXRUNTIME_PACKAGES[name].files)
    .filter(([rel]) => !rel.startsWith('bin/') || rel.startsWith(`bin/napi-v6/linux/${arch}/`));
  if (!files('onnxruntime-node').some(([rel]) => rel.endsWith('/onnxruntime_binding.node'))) {
    throw new Error(`onnxruntime-node@${ONNXRUNTIME_VERSION} has no binary for linux/${arch}; expected x64 or arm64`);
  }
  const source = runtimeModuleDirs(sources);
  for (const name of RUNTIME_PACKAGES) {
    const from = source.dirs[name];
    for (const [rel, expected] of files(name)) {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(path.join(from, rel));
      } catch {
        throw new Error(`refusing ${name}@${ONNXRUNTIME_VERSION} from ${source.origin} (${from}): it has no ${rel}, which the registry's package has. Reinstall it (npm ci).`);
      }
      const actual = sha256(bytes);
      if (actual !== expected) {
        throw new Error(
          `refusing ${name}@${ONNXRUNTIME_VERSION} from ${source.origin} (${from}): ${rel} has SHA-256 ${actual}, `
          + `but the registry's package (integrity ${ONNXRUNTIME_PACKAGES[name].integrity}) has ${expected}. `
          + 'Its files were changed after npm installed them: reinstall it (npm ci) from a registry you trust.',
        );
      }
      const to = path.join(nodeModulesDir, name, rel);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.writeFileSync(to, bytes);
    }
  }
}

/**
 * Write a container image build context: the same package under `app/`, and a Dockerfile that
 * copies it onto `baseImage` (the AWS Lambda Node.js base image, pinned by digest).
 *
 * @internal
 */
export function stageImageContext(outDir: string, options: StageOptions, baseImage: string, sources: RuntimeSources = {}): void {
  if (!PINNED_IMAGE.test(baseImage)) {
    throw new Error(`invalid base image: received ${JSON.stringify(baseImage)}; expected an image pinned by digest (<repository>:<tag>@sha256:<64 hex digits>)`);
  }
  stagePackage(path.join(outDir, 'app'), options, sources);
  const platform = options.arch === 'arm64' ? 'linux/arm64' : 'linux/amd64';
  fs.writeFileSync(path.join(outDir, 'Dockerfile'), [
    '# Generated by cdk-secure-mlops: ServerlessModelEndpoint container packaging.',
    `FROM --platform=${platform} ${baseImage}`,
    'COPY app/ ${LAMBDA_TASK_ROOT}/',
    'CMD ["index.handler"]',
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(outDir, '.dockerignore'), 'Dockerfile\n.dockerignore\n');
}

/**
 * An image reference pinned by digest: `<repository>[:<tag>]@sha256:<64 hex>`.
 *
 * @internal
 */
export const PINNED_IMAGE = /^[a-z0-9][a-z0-9._\-/:]*@sha256:[0-9a-f]{64}$/;

/**
 * A zip code asset whose staging is done on this machine (no Docker): see `stagePackage`.
 *
 * @internal
 */
export function zipCode(options: StageOptions, modelSha256: string): lambda.Code {
  return lambda.Code.fromAsset(predictBundleDir(), {
    assetHashType: AssetHashType.CUSTOM,
    assetHash: packageHash(options, modelSha256),
    bundling: {
      // Never run: the package is always staged on this machine (tryBundle stages it or throws
      // why it cannot). aws-cdk-lib requires an image for bundling options.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-bookworm'),
      command: ['sh', '-c', 'echo "cdk-secure-mlops stages the model endpoint package on the synthesizing machine, never in Docker" >&2; exit 1'],
      local: {
        tryBundle(outputDir: string): boolean {
          stagePackage(outputDir, options);
          return true;
        },
      },
    },
  });
}

/** The directories of the two packages, and where they were found (for error messages). */
interface ModuleDirs {
  readonly origin: string;
  readonly dirs: Record<RuntimePackage, string>;
}

/** The packages fetched by this process (one fetch per synth, in a private directory). */
let fetched: ModuleDirs | undefined;

/**
 * onnxruntime-node and onnxruntime-common at exactly the pinned version: from the project's own
 * node_modules when it has them, else fetched from the npm registry into a fresh private
 * directory of this process (never a shared, predictable one), each tarball checked against the
 * pinned registry integrity before it is extracted. The files are checked again when staged.
 */
function runtimeModuleDirs(sources: RuntimeSources): ModuleDirs {
  for (const base of sources.searchFrom ?? [process.cwd(), __dirname]) {
    const found = tryResolve(base);
    if (found) { return { origin: `the node_modules of ${base}`, dirs: found }; }
  }
  if (sources.pack) { return fetchRuntimeModules(sources.pack); }
  fetched ??= fetchRuntimeModules(npmPack);
  return fetched;
}

function fetchRuntimeModules(pack: (spec: string, destination: string) => string): ModuleDirs {
  const work = privateStagingDir('onnxruntime');
  const dirs = {} as Record<RuntimePackage, string>;
  for (const name of RUNTIME_PACKAGES) {
    const spec = `${name}@${ONNXRUNTIME_VERSION}`;
    const downloads = fs.mkdtempSync(path.join(work, 'pack-'));
    const tarball = pack(spec, downloads);
    verifyIntegrity(tarball, spec, ONNXRUNTIME_PACKAGES[name].integrity);
    const into = fs.mkdtempSync(path.join(work, `${name}-`));
    const tar = spawnSync('tar', ['-xzf', tarball, '-C', into], { encoding: 'utf8', stdio: 'pipe' });
    if (tar.status !== 0) {
      throw new Error(`could not extract ${spec} (${tarball}) with tar: ${tar.stderr || tar.error}`);
    }
    dirs[name] = path.join(into, 'package');
  }
  return { origin: 'the npm registry', dirs };
}

/**
 * Refuse a tarball whose sha512 is not the registry's `dist.integrity` pinned in the library.
 *
 * @internal
 */
export function verifyIntegrity(tarball: string, spec: string, integrity: string): void {
  const [algorithm, expected] = integrity.split('-', 2) as [string, string];
  const actual = createHash(algorithm).update(fs.readFileSync(tarball)).digest('base64');
  if (actual !== expected) {
    throw new Error(
      `refusing ${spec}: the tarball npm fetched (${tarball}) has integrity ${algorithm}-${actual}, but the npm registry's `
      + `${spec} has ${integrity} (pinned in cdk-secure-mlops). Check the npm registry or mirror this machine uses.`,
    );
  }
}

/** `npm pack <spec>` into `destination` (the user's registry and cache; no install scripts run). */
function npmPack(spec: string, destination: string): string {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', destination, spec], {
    cwd: destination,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    encoding: 'utf8',
    stdio: 'pipe',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) {
    throw new Error(`could not fetch ${spec} with npm pack (needed to package the model endpoint): ${result.stderr || result.error}`);
  }
  const [packed] = JSON.parse(result.stdout) as Array<{ filename: string }>;
  return path.join(destination, packed.filename);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function tryResolve(base: string): Record<RuntimePackage, string> | undefined {
  try {
    const nodeDir = path.dirname(require.resolve('onnxruntime-node/package.json', { paths: [base] }));
    // onnxruntime-common's "exports" hide ./package.json: find its directory from its entry point.
    const commonDir = packageRoot(require.resolve('onnxruntime-common', { paths: [nodeDir, base] }), 'onnxruntime-common');
    const version = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
    if (!commonDir || version(nodeDir) !== ONNXRUNTIME_VERSION || version(commonDir) !== ONNXRUNTIME_VERSION) {
      return undefined;
    }
    return { 'onnxruntime-node': nodeDir, 'onnxruntime-common': commonDir };
  } catch {
    return undefined;
  }
}

function packageRoot(file: string, name: string): string | undefined {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === name) {
      return dir;
    }
  }
  return undefined;
}

/** The predict handler, bundled when the library is built (esbuild; onnxruntime-node external). */
function predictBundleDir(): string {
  return bundleDir('serverless-model-endpoint', 'predict');
}
