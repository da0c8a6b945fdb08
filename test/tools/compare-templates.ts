/**
 * Compare the templates two trees synthesize in their tests (see test/support/template-dump.ts):
 * every template must be equal after masking asset hashes (64 hex digits, in any string).
 *
 *   # in each tree:
 *   TEMPLATE_DUMP_DIR=/tmp/before npx jest --setupFilesAfterEnv ./test/support/template-dump.ts
 *   # then:
 *   ts-node --project tsconfig.dev.json test/tools/compare-templates.ts /tmp/before /tmp/after
 *
 * Prints the count of templates compared and every difference (by test, stack and JSON path);
 * exits 1 when a template differs or exists on one side only.
 */
import * as fs from 'fs';
import * as path from 'path';

interface Entry { readonly key: string; readonly n: number; readonly file: string }

function load(dir: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const line of fs.readFileSync(path.join(dir, 'index.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const e = JSON.parse(line) as Entry;
    out.set(`${e.key} #${e.n}`, JSON.parse(fs.readFileSync(path.join(dir, e.file), 'utf8')));
  }
  return out;
}

/**
 * Asset hashes (and the asset file names built from them) are allowed to differ, and so are the
 * logical ids of Lambda versions, which aws-cdk-lib derives from a hash of the function's code, and
 * the asset destination ids derived from them.
 */
function mask(value: unknown): unknown {
  if (typeof value === 'string') {
    return value.replace(/[0-9a-f]{64}/g, '<asset-hash>').replace(/(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}/g, '$1<code-hash>')
    // CDK Pipelines' asset publishing commands name `<asset hash>:<account>-<region>-<hash of both>`.
      .replace(/(<asset-hash>:[0-9a-z-]+-)[0-9a-f]{8}\b/g, '$1<destination-hash>');
  }
  if (Array.isArray(value)) return value.map(mask);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [mask(k) as string, mask(v)]));
  return value;
}

function diff(a: unknown, b: unknown, at: string, out: string[]): void {
  if (out.length > 20) return;
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || a === null || b === null || typeof a !== 'object') {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${at}: ${JSON.stringify(a)?.slice(0, 200)} != ${JSON.stringify(b)?.slice(0, 200)}`);
    return;
  }
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  for (const k of keys) diff((a as any)[k], (b as any)[k], `${at}/${k}`, out);
}

function main(): number {
  const [beforeDir, afterDir] = process.argv.slice(2);
  if (!beforeDir || !afterDir) throw new Error('usage: compare-templates.ts BEFORE_DIR AFTER_DIR');
  const before = load(beforeDir);
  const after = load(afterDir);
  let failures = 0;
  let compared = 0;
  let differing = 0;
  for (const [key, template] of before) {
    if (!after.has(key)) { failures++; console.log(`only before: ${key}`); continue; }
    compared++;
    const out: string[] = [];
    diff(mask(template), mask(after.get(key)), '', out);
    if (out.length) { failures++; differing++; console.log(`differs: ${key}\n  ${out.join('\n  ')}`); }
  }
  for (const key of after.keys()) if (!before.has(key)) { failures++; console.log(`only after: ${key}`); }
  console.log(`templates compared: ${compared}; identical except asset hashes: ${compared - differing}; problems: ${failures}`);
  return failures ? 1 : 0;
}

process.exit(main());
