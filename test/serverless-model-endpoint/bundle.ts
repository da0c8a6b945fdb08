/**
 * Builds the prediction handler the way it is deployed as a zip, into a temporary directory:
 *
 *   index.js                          esbuild bundle of the predict handler (the options of its
 *                                     bundle task in .projenrc.ts: node22, externals below)
 *   model/model.onnx                  the reference model (MODEL_PATH=model/model.onnx)
 *   node_modules/onnxruntime-node     the package with only bin/napi-v6/<platform>/<arch>
 *   node_modules/onnxruntime-common   its one runtime dependency
 *
 * Used by bundle.test.ts and by the benchmark (cold starts of the deployed artifact).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MODEL_PATH } from './fixture';
import { stagePackage } from '../../src/serverless-model-endpoint/runtime-package';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** The handler bundle that `npx projen bundle` writes (esbuild, onnxruntime-node external). */
export const HANDLER_BUNDLE = path.join(REPO_ROOT, 'assets', 'serverless-model-endpoint', 'runtime', 'predict.handler');
/**
 * The module ids the deployed bundle leaves to the runtime (the SDK clients) or to the zip's
 * node_modules (onnxruntime-node): the externals of the bundle task in .projenrc.ts.
 */
export const EXTERNALS = ['@aws-sdk/client-*', 'onnxruntime-node'];

export interface BuiltArtifact {
  readonly dir: string;
  readonly entry: string;
  /** MODEL_PATH relative to the artifact root. */
  readonly modelPath: string;
  /** Bytes of every file, by top-level part. */
  readonly sizes: { bundle: number; model: number; onnxruntime: number; total: number };
  remove(): void;
}

export function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}

/**
 * Builds the artifact with the library's own packaging step (`stagePackage`, what
 * `ServerlessModelEndpoint` runs at synth) from the bundle `npx projen bundle` wrote: exactly the
 * files that would be deployed. linux only (Lambda's platform); `arch` defaults to this machine's.
 */
export function buildArtifact(arch: string = process.arch): BuiltArtifact {
  if (!fs.existsSync(path.join(HANDLER_BUNDLE, 'index.js'))) {
    throw new Error(`no bundle at ${HANDLER_BUNDLE}: run \`npx projen bundle\` first (the test task does)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sme-artifact-'));
  stagePackage(dir, { arch, modelFile: MODEL_PATH });
  const entry = path.join(dir, 'index.js');
  const sizes = {
    bundle: fs.statSync(entry).size,
    model: fs.statSync(path.join(dir, 'model', 'model.onnx')).size,
    onnxruntime: dirBytes(path.join(dir, 'node_modules')),
    total: dirBytes(dir),
  };
  return {
    dir,
    entry,
    modelPath: 'model/model.onnx',
    sizes,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
