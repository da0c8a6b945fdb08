import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { IConstruct } from 'constructs';

/**
 * Where the handler bundles live: `assets/<construct>/runtime/<name>.handler/index.js`, built from
 * `src/<construct>/runtime/<name>.handler.ts` when the library is built (one projen rule).
 */
const ASSETS_DIR = path.join(__dirname, '..', '..', 'assets');

/** The Node.js majors the handlers are built for (esbuild target node22) and tested on. */
const MIN_NODE_MAJOR = 22;
/** The default when aws-cdk-lib knows nothing newer. */
const DEFAULT_NODE_MAJOR = 24;

/**
 * The directory of one bundled handler, or a clear error when the library was not built.
 *
 * @internal
 */
export function bundleDir(construct: string, handler: string): string {
  const dir = path.join(ASSETS_DIR, construct, 'runtime', `${handler}.handler`);
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(`cdk-secure-mlops: the bundled ${construct}/${handler} handler is missing at ${dir} (run \`npx projen bundle\` when working on the library)`);
  }
  return dir;
}

/**
 * The Node.js runtime of the library's functions: the user's choice (validated), else the newest
 * Node.js runtime that the installed aws-cdk-lib knows (at least `nodejs24.x`), so that cdk-nag's
 * "latest runtime" rules, which follow what aws-cdk-lib knows, hold with any aws-cdk-lib version.
 *
 * @internal
 */
export function handlerRuntime(scope: IConstruct, runtime?: lambda.Runtime): lambda.Runtime {
  if (runtime) {
    const major = nodeMajor(runtime);
    if (runtime.family !== lambda.RuntimeFamily.NODEJS || major === undefined || major < MIN_NODE_MAJOR) {
      throw new Error(`${scope.node.path}: invalid runtime: ${runtime.name}; expected a Node.js runtime, nodejs${MIN_NODE_MAJOR}.x or newer (the handlers are built for Node.js ${MIN_NODE_MAJOR}), or leave it unset for the newest one aws-cdk-lib knows`);
    }
    return runtime;
  }
  return latestNodeRuntime();
}

let latest: lambda.Runtime | undefined;
function latestNodeRuntime(): lambda.Runtime {
  if (!latest) {
    latest = new lambda.Runtime(`nodejs${DEFAULT_NODE_MAJOR}.x`, lambda.RuntimeFamily.NODEJS);
    for (const r of Object.values(lambda.Runtime)) {
      if (!(r instanceof lambda.Runtime) || r.family !== lambda.RuntimeFamily.NODEJS || r.isVariable) continue;
      if ((nodeMajor(r) ?? 0) > nodeMajor(latest)!) latest = r;
    }
  }
  return latest;
}

function nodeMajor(runtime: lambda.Runtime): number | undefined {
  const m = /^nodejs(\d+)\.x$/.exec(runtime.name);
  return m ? Number(m[1]) : undefined;
}

/** Staging directories of this process, removed when it exits. */
const staged: string[] = [];

/**
 * A fresh directory of this process in the shared temp directory: `mkdtemp` (an unpredictable
 * name, mode 0700, never reused), so nothing another user of the build host planted can end up
 * in what is staged there. Removed when the process exits, unless `keep`.
 *
 * @internal
 */
export function privateStagingDir(purpose: string, keep = false): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk-secure-mlops-${purpose}-`));
  if (!keep) {
    if (staged.length === 0) process.once('exit', () => staged.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
    staged.push(dir);
  }
  return dir;
}

/**
 * Code for one handler: its bundle, plus extra files staged beside it (a configuration file the
 * construct built). With extra files, they are written into a fresh directory of this process
 * (`privateStagingDir`), so nothing another user of the build host planted can end up in the
 * function; the asset hash is the hash of the content, as for any directory asset.
 *
 * @internal
 */
export function handlerCode(scope: IConstruct, construct: string, handler: string, files: Readonly<Record<string, string>> = {}): lambda.Code {
  const dir = bundleDir(construct, handler);
  if (Object.keys(files).length === 0) return lambda.Code.fromAsset(dir);
  // With asset staging disabled (SAM local), the template points at this directory: keep it.
  const work = privateStagingDir(handler, keepStaging(scope));
  fs.copyFileSync(path.join(dir, 'index.js'), path.join(work, 'index.js'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(work, name), text, { mode: 0o600 });
  return lambda.Code.fromAsset(work);
}

/**
 * Whether a staging directory must outlive the process: with asset staging disabled (SAM local),
 * the template points at it.
 *
 * @internal
 */
export function keepStaging(scope: IConstruct): boolean {
  return Boolean(scope.node.tryGetContext(cxapi.DISABLE_ASSET_STAGING_CONTEXT));
}
