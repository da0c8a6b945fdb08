/**
 * Checks that a bundled Lambda handler asset (produced by `npx projen bundle`, e.g.
 * assets/secure-data-lake/runtime/upload-url.handler/index.js) loads the way Lambda loads it:
 *
 *   - in a fresh node process (process.execPath: Node 22 when run through npx/projen),
 *   - from a COPY of the asset directory outside the repository, so that require() cannot
 *     walk up into the repository's node_modules and hide a dependency the bundle forgot,
 *   - with only the AWS SDK v3 resolvable, through NODE_PATH pointing at a directory whose
 *     node_modules holds nothing but a link to the repository's node_modules/@aws-sdk scope.
 *     This stands in for the SDK v3 that the Lambda Node.js runtime provides (the bundles keep
 *     the @aws-sdk packages external). The SDK's own dependencies (the @smithy packages) resolve
 *     from the link's real path.
 *
 * It asserts that the module exports `handler` as a function, and that the module ids in the
 * bundle's require() calls are only Node built-ins and allowed externals (default: @aws-sdk
 * packages), which also catches requires that run only later, inside the handler.
 *
 *   expectAssetLoads('assets/secure-data-lake/runtime/upload-url.handler', { env: { BUCKET_NAME: 'b' } });
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

export interface AssetLoadOptions {
  /** Extra environment for the handler module (e.g. variables read at module scope). */
  readonly env?: Readonly<Record<string, string>>;
  /** Export that must be a function. Default `handler`. */
  readonly handlerExport?: string;
  /** Module ids the bundle may require besides Node built-ins. Default: `@aws-sdk/*`. */
  readonly allowedExternals?: readonly RegExp[];
  /** Entry file inside the asset directory. Default: index.js, else index.mjs. */
  readonly entry?: string;
  /** Default 30 s. */
  readonly timeoutMs?: number;
}

export interface AssetLoadResult {
  /** Names the module exports. */
  readonly exports: string[];
  /** Non-relative module ids required by the bundle (built-ins excluded). */
  readonly externals: string[];
  /** Time to spawn node and load the module. */
  readonly ms: number;
  /** Size of the entry file in bytes. */
  readonly bytes: number;
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Module ids in the bundle's `require("x")` calls (and, for ES modules, `from "x"` / `import("x")`),
 * without relative ids and Node built-ins. Lines of comments (` * ...` in a doc comment, `// ...`)
 * are skipped: esbuild keeps the doc comments of bundled classes, and their examples show calls
 * that the code never makes (Powertools Tracer's `captureAWS(require('aws-sdk'))`).
 */
export function bundleExternals(code: string, esm = false): string[] {
  const ids = new Set<string>();
  const patterns = [/\brequire\(\s*["']([^"']+)["']\s*\)/g];
  if (esm) patterns.push(/\bfrom\s*["']([^"']+)["']/g, /\bimport\(\s*["']([^"']+)["']\s*\)/g);
  const inCommentLine = (index: number) => /^\s*(\*|\/\/|\/\*)/.test(code.slice(code.lastIndexOf('\n', index) + 1, index));
  for (const re of patterns) {
    for (const m of code.matchAll(re)) {
      const id = m[1];
      if (inCommentLine(m.index)) continue;
      if (id.startsWith('.') || id.startsWith('/') || BUILTINS.has(id) || BUILTINS.has(id.split('/')[0])) continue;
      ids.add(id);
    }
  }
  return [...ids].sort();
}

/** Loads the bundled handler in a fresh node process and asserts it exports a handler function. */
export function expectAssetLoads(assetDir: string, options: AssetLoadOptions = {}): AssetLoadResult {
  const dir = path.resolve(REPO_ROOT, assetDir);
  const entry = options.entry ?? (fs.existsSync(path.join(dir, 'index.js')) ? 'index.js' : 'index.mjs');
  const entryFile = path.join(dir, entry);
  if (!fs.existsSync(entryFile)) {
    throw new Error(`no ${entry} in ${dir}: run \`npx projen bundle\` first`);
  }
  const code = fs.readFileSync(entryFile, 'utf8');
  const allowed = options.allowedExternals ?? [/^@aws-sdk\//];
  const externals = bundleExternals(code, entry.endsWith('.mjs'));
  const unexpected = externals.filter((id) => !allowed.some((re) => re.test(id)));
  if (unexpected.length > 0) {
    throw new Error(`${path.relative(REPO_ROOT, entryFile)} requires modules that are neither bundled nor provided by the Lambda runtime: ${unexpected.join(', ')}`);
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'asset-load-'));
  try {
    const taskDir = path.join(tmp, 'task'); // like /var/task
    fs.cpSync(dir, taskDir, { recursive: true });
    const runtimeModules = path.join(tmp, 'runtime', 'node_modules'); // like the runtime's SDK
    fs.mkdirSync(runtimeModules, { recursive: true });
    const sdkScope = path.join(REPO_ROOT, 'node_modules', '@aws-sdk');
    if (fs.existsSync(sdkScope)) fs.symlinkSync(sdkScope, path.join(runtimeModules, '@aws-sdk'), 'dir');

    const exportName = options.handlerExport ?? 'handler';
    const script = `
      const { pathToFileURL } = require('node:url');
      const file = process.argv[1];
      const load = file.endsWith('.mjs') ? import(pathToFileURL(file).href) : Promise.resolve(require(file));
      load.then((m) => {
        process.stdout.write(JSON.stringify({ exports: Object.keys(m), type: typeof m[process.argv[2]] }));
      }).catch((e) => { console.error(e && e.stack || String(e)); process.exit(3); });
    `;
    const start = Date.now();
    const r = spawnSync(process.execPath, ['-e', script, path.join(taskDir, entry), exportName], {
      cwd: taskDir,
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 30_000,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: runtimeModules,
        AWS_REGION: 'eu-central-1',
        AWS_DEFAULT_REGION: 'eu-central-1',
        AWS_LAMBDA_FUNCTION_NAME: 'asset-load-test',
        AWS_ACCESS_KEY_ID: 'AKIALOCALTESTING0000',
        AWS_SECRET_ACCESS_KEY: 'local-testing-secret',
        ...options.env,
      },
    });
    const ms = Date.now() - start;
    if (r.error) throw r.error;
    if (r.status !== 0) {
      throw new Error(`${path.relative(REPO_ROOT, entryFile)} failed to load in a fresh node (exit ${r.status}, signal ${r.signal}):\n${r.stderr}`);
    }
    const out = JSON.parse(r.stdout) as { exports: string[]; type: string };
    if (out.type !== 'function') {
      throw new Error(`${path.relative(REPO_ROOT, entryFile)} exports ${exportName} as ${out.type}, not a function (exports: ${out.exports.join(', ')})`);
    }
    return { exports: out.exports, externals, ms, bytes: Buffer.byteLength(code) };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
