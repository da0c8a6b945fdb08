/**
 * cfn-lint and checkov over synthesized CloudFormation templates.
 *
 * Both tools are Python programs with a start-up cost of several seconds per invocation
 * (cfn-lint ~3 s, checkov ~6 s on our 2-core machines), so every function here takes MANY
 * templates and runs the tool ONCE. Collect all templates of a test file (minimal and maximal
 * configurations, the reference app) and scan them together, ideally in a beforeAll.
 *
 *   const templates = [
 *     { name: 'minimal', template: Template.fromStack(minimalStack).toJSON() },
 *     { name: 'maximal', template: Template.fromStack(maximalStack).toJSON() },
 *     'cdk.out',                                    // or a cdk.out directory / *.template.json file
 *   ];
 *   const lint = await expectCfnLintClean(templates);          // throws on any cfn-lint error
 *   const report = await checkovReport(templates);             // failed checks not accepted
 *   expect(report.failed).toEqual([]);                          // the caller decides gating
 *
 * The tools come from the repository's virtualenvs (`npx projen setup:tools`):
 * .venv-tools/bin/cfn-lint and .venv-checkov/bin/checkov (override with CFN_LINT_BIN / CHECKOV_BIN).
 * Templates given as objects are written to a temporary directory first; CDK templates with
 * asset parameters, `Fn::` intrinsics, `Rules` and `aws:cdk:path` metadata lint as they are.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CHECKOV_ACCEPTED, CHECKOV_NEVER_ACCEPTED, CHECKOV_SANCTIONED_EXCEPTIONS, CheckovAcceptance } from './checkov-accepted';
import { globToRegExp } from './construct-path-glob';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CFN_LINT_BIN = process.env.CFN_LINT_BIN ?? path.join(REPO_ROOT, '.venv-tools', 'bin', 'cfn-lint');
export const CHECKOV_BIN = process.env.CHECKOV_BIN ?? path.join(REPO_ROOT, '.venv-checkov', 'bin', 'checkov');

/** A CloudFormation template as a JSON object. */
export type CfnTemplate = Record<string, unknown>;

/**
 * What to scan:
 *  - a path to a `*.template.json` (or .yaml) file, or to a cdk.out directory (every
 *    `*.template.json` in it, nested assemblies of stages included; asset directories skipped),
 *  - `{ name, template }`: a template object with a name used in findings,
 *  - a bare template object (named `template-<n>`).
 */
export type TemplateInput = string | { readonly name: string; readonly template: CfnTemplate } | CfnTemplate;

/** A template on disk, ready for a scanner. */
export interface ResolvedTemplate {
  readonly name: string;
  readonly file: string;
  readonly template: CfnTemplate;
}

interface Materialized {
  readonly templates: ResolvedTemplate[];
  cleanup(): void;
}

function isNamed(t: TemplateInput): t is { name: string; template: CfnTemplate } {
  return typeof t === 'object' && t !== null && typeof (t as { name?: unknown }).name === 'string'
    && typeof (t as { template?: unknown }).template === 'object' && !('Resources' in t);
}

function findTemplates(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name.startsWith('assembly-')) out.push(...findTemplates(full)); // nested stage assemblies
    } else if (entry.name.endsWith('.template.json')) {
      out.push(full);
    }
  }
  return out.sort();
}

function readTemplate(file: string): CfnTemplate {
  const text = fs.readFileSync(file, 'utf8');
  if (/\.ya?ml$/.test(file)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const yaml = require('yaml') as { parse(s: string): unknown };
    return yaml.parse(text) as CfnTemplate;
  }
  return JSON.parse(text) as CfnTemplate;
}

/** Resolves inputs to files; objects are written to a fresh temporary directory. */
export function materializeTemplates(inputs: readonly TemplateInput[] | TemplateInput): Materialized {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  let tmp: string | undefined;
  const templates: ResolvedTemplate[] = [];
  const usedNames = new Set<string>();
  const uniqueName = (base: string) => {
    let name = base;
    for (let i = 2; usedNames.has(name); i++) name = `${base}-${i}`;
    usedNames.add(name);
    return name;
  };
  list.forEach((input, index) => {
    if (typeof input === 'string') {
      const abs = path.resolve(input);
      if (!fs.existsSync(abs)) throw new Error(`template path not found: ${abs}`);
      const files = fs.statSync(abs).isDirectory() ? findTemplates(abs) : [abs];
      if (files.length === 0) throw new Error(`no *.template.json in ${abs}`);
      for (const file of files) {
        templates.push({ name: uniqueName(path.basename(file).replace(/\.template\.(json|ya?ml)$|\.(json|ya?ml)$/, '')), file, template: readTemplate(file) });
      }
      return;
    }
    const [name, template] = isNamed(input) ? [input.name, input.template] : [`template-${index + 1}`, input as CfnTemplate];
    tmp ??= fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-scan-'));
    const safe = uniqueName(name.replace(/[^A-Za-z0-9._-]+/g, '_'));
    const file = path.join(tmp, `${safe}.template.json`);
    fs.writeFileSync(file, JSON.stringify(template, undefined, 1));
    templates.push({ name: safe, file, template });
  });
  return {
    templates,
    cleanup: () => {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

function run(bin: string, args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<RunResult> {
  if (!fs.existsSync(bin)) {
    return Promise.reject(new Error(`${bin} not found. Run \`npx projen setup:tools\` (bash .ci/setup-tools.sh) first.`));
  }
  const start = Date.now();
  return new Promise((resolve, reject) => {
    execFile(bin, args, {
      // A neutral cwd: no .cfnlintrc / .checkov.yaml of the repository or of $HOME applies.
      cwd: os.tmpdir(),
      timeout: timeoutMs,
      maxBuffer: 256 * 1024 * 1024,
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), LANG: 'C.UTF-8', ...env },
    }, (error, stdout, stderr) => {
      const ms = Date.now() - start;
      if (error && (error as { killed?: boolean }).killed) {
        reject(new Error(`${path.basename(bin)} timed out after ${timeoutMs} ms\n${stderr}`));
        return;
      }
      if (error && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr, ms });
    });
  });
}

function resourceInfo(t: ResolvedTemplate, logicalId: string | undefined): { type?: string; cdkPath?: string } {
  if (!logicalId) return {};
  const res = (t.template.Resources as Record<string, { Type?: string; Metadata?: Record<string, unknown> }> | undefined)?.[logicalId];
  const cdkPath = res?.Metadata?.['aws:cdk:path'];
  return { type: res?.Type, cdkPath: typeof cdkPath === 'string' ? cdkPath : undefined };
}

// ---- cfn-lint ---------------------------------------------------------------------------------

export type CfnLintLevel = 'Error' | 'Warning' | 'Informational';

export interface CfnLintFinding {
  /** Template name (see TemplateInput). */
  readonly template: string;
  readonly level: CfnLintLevel;
  /** Rule id, e.g. E3002. */
  readonly rule: string;
  readonly message: string;
  /** JSON path inside the template, e.g. `Resources/Bucket/Properties/Foo`. */
  readonly path: string;
  readonly logicalId?: string;
  readonly cdkPath?: string;
  readonly line?: number;
}

export interface CfnLintResult {
  readonly errors: CfnLintFinding[];
  readonly warnings: CfnLintFinding[];
  readonly informational: CfnLintFinding[];
  readonly templates: string[];
  /** Wall time of the single cfn-lint invocation. */
  readonly ms: number;
}

export interface CfnLintOptions {
  /** Regions to validate resource availability against. Default: cfn-lint's (us-east-1). */
  readonly regions?: readonly string[];
  /** Rule ids to skip entirely (`--ignore-checks`). Prefer fixing; list why in the caller. */
  readonly ignoreChecks?: readonly string[];
  /** Default 300 s. */
  readonly timeoutMs?: number;
}

interface RawCfnLintMatch {
  Filename: string;
  Level: string;
  Message: string;
  Location?: { Path?: Array<string | number>; Start?: { LineNumber?: number } };
  Rule: { Id: string };
}

/** Runs cfn-lint once over all templates and returns its findings by level. */
export async function runCfnLint(inputs: readonly TemplateInput[] | TemplateInput, options: CfnLintOptions = {}): Promise<CfnLintResult> {
  const m = materializeTemplates(inputs);
  try {
    const args = ['--format', 'json', '--non-zero-exit-code', 'none'];
    if (options.regions?.length) args.push('--regions', ...options.regions);
    if (options.ignoreChecks?.length) args.push('--ignore-checks', ...options.ignoreChecks);
    args.push('--', ...m.templates.map((t) => t.file));
    const r = await run(CFN_LINT_BIN, args, options.timeoutMs ?? 300_000);
    let raw: RawCfnLintMatch[];
    try {
      raw = JSON.parse(r.stdout || '[]') as RawCfnLintMatch[];
    } catch {
      throw new Error(`cfn-lint did not print JSON (exit ${r.code}):\n${r.stdout.slice(0, 4000)}\n${r.stderr.slice(0, 4000)}`);
    }
    if (r.code !== 0) {
      throw new Error(`cfn-lint failed (exit ${r.code}):\n${r.stderr.slice(0, 4000)}`);
    }
    const byFile = new Map(m.templates.map((t) => [path.resolve(t.file), t]));
    const findings: CfnLintFinding[] = raw.map((x) => {
      const t = byFile.get(path.resolve(os.tmpdir(), x.Filename)) ?? byFile.get(path.resolve(x.Filename));
      const p = x.Location?.Path ?? [];
      const logicalId = p[0] === 'Resources' && typeof p[1] === 'string' ? p[1] : undefined;
      const info = t ? resourceInfo(t, logicalId) : {};
      return {
        template: t?.name ?? x.Filename,
        level: x.Level as CfnLintLevel,
        rule: x.Rule.Id,
        message: x.Message,
        path: p.join('/'),
        logicalId,
        cdkPath: info.cdkPath,
        line: x.Location?.Start?.LineNumber,
      };
    });
    return {
      errors: findings.filter((f) => f.level === 'Error'),
      warnings: findings.filter((f) => f.level === 'Warning'),
      informational: findings.filter((f) => f.level !== 'Error' && f.level !== 'Warning'),
      templates: m.templates.map((t) => t.name),
      ms: r.ms,
    };
  } finally {
    m.cleanup();
  }
}

export function formatCfnLintFinding(f: CfnLintFinding): string {
  return `${f.level} ${f.rule} ${f.template}:${f.cdkPath ?? f.path}${f.line ? ` (line ${f.line})` : ''}: ${f.message}`;
}

/**
 * Fails (throws) when cfn-lint reports any error over the templates; warnings are printed with
 * console.warn and returned, not gating.
 */
export async function expectCfnLintClean(inputs: readonly TemplateInput[] | TemplateInput, options: CfnLintOptions = {}): Promise<CfnLintResult> {
  const result = await runCfnLint(inputs, options);
  if (result.warnings.length > 0) {
    // eslint-disable-next-line no-console
    console.warn(`cfn-lint: ${result.warnings.length} warning(s) (not gating):\n${result.warnings.map(formatCfnLintFinding).join('\n')}`);
  }
  if (result.errors.length > 0) {
    throw new Error(`cfn-lint: ${result.errors.length} error(s) in ${result.templates.join(', ')}:\n${result.errors.map(formatCfnLintFinding).join('\n')}`);
  }
  return result;
}

// ---- checkov ----------------------------------------------------------------------------------

export interface CheckovFinding {
  readonly template: string;
  /** e.g. CKV_AWS_18 */
  readonly checkId: string;
  readonly checkName: string;
  /** e.g. AWS::S3::Bucket.MyBucketF68F3FF0 */
  readonly resource: string;
  readonly resourceType?: string;
  readonly logicalId?: string;
  readonly cdkPath?: string;
  readonly guideline?: string;
}

export interface CheckovReport {
  /** Failed checks that no entry of the accepted list covers: fix them or list them. */
  readonly failed: CheckovFinding[];
  /** Failed checks covered by an accepted entry, with the entry. */
  readonly accepted: Array<CheckovFinding & { readonly acceptance: CheckovAcceptance }>;
  /** Checks suppressed inside a template (`Metadata.checkov.skip`); should be empty: use the list. */
  readonly skippedInTemplate: CheckovFinding[];
  /** Accepted entries that matched nothing in this scan (stale, or for other templates). */
  readonly unusedAcceptances: CheckovAcceptance[];
  readonly summary: { passed: number; failed: number; skipped: number; parsingErrors: number; resourceCount: number };
  readonly templates: string[];
  /** Wall time of the single checkov invocation. */
  readonly ms: number;
}

export interface CheckovOptions {
  /** The reviewed list to apply. Default: CHECKOV_ACCEPTED from ./checkov-accepted. */
  readonly accepted?: readonly CheckovAcceptance[];
  /** Default 300 s. */
  readonly timeoutMs?: number;
}

interface RawCheckovCheck {
  check_id: string;
  check_name: string;
  resource: string;
  file_abs_path?: string;
  file_path?: string;
  guideline?: string | null;
}

interface RawCheckovReport {
  check_type?: string;
  results?: { failed_checks?: RawCheckovCheck[]; skipped_checks?: RawCheckovCheck[] };
  summary?: { passed?: number; failed?: number; skipped?: number; parsing_errors?: number; resource_count?: number };
}

/** Glob on construct paths: `*` = within one segment, `**` = any number of segments. */
export function pathMatches(pattern: string | RegExp, value: string): boolean {
  if (pattern instanceof RegExp) return pattern.test(value);
  return globToRegExp(pattern).test(value);
}

function acceptanceCovers(a: CheckovAcceptance, f: CheckovFinding): boolean {
  if (a.id !== f.checkId) return false;
  if (a.resourceType && a.resourceType !== f.resourceType) return false;
  if (a.path === undefined) return true;
  const target = f.cdkPath ?? `${f.template}/${f.logicalId ?? f.resource}`;
  return (Array.isArray(a.path) ? a.path : [a.path]).some((p) => pathMatches(p, target));
}

/** Runs checkov once over all templates (framework cloudformation, offline). */
export async function runCheckov(inputs: readonly TemplateInput[] | TemplateInput, options: Pick<CheckovOptions, 'timeoutMs'> = {}): Promise<{
  failed: CheckovFinding[]; skipped: CheckovFinding[]; summary: CheckovReport['summary']; templates: string[]; ms: number;
}> {
  const m = materializeTemplates(inputs);
  try {
    const args = ['--framework', 'cloudformation', '-o', 'json', '--quiet', '--compact', '--skip-download', '--soft-fail'];
    for (const t of m.templates) args.push('-f', t.file);
    // --skip-download: checkov otherwise calls the Prisma Cloud API for guideline mappings.
    const r = await run(CHECKOV_BIN, args, options.timeoutMs ?? 300_000, { LOG_LEVEL: 'ERROR' });
    let parsed: RawCheckovReport | RawCheckovReport[];
    try {
      parsed = JSON.parse(r.stdout) as RawCheckovReport | RawCheckovReport[];
    } catch {
      throw new Error(`checkov did not print JSON (exit ${r.code}):\n${r.stdout.slice(0, 4000)}\n${r.stderr.slice(0, 4000)}`);
    }
    if (r.code !== 0) throw new Error(`checkov failed (exit ${r.code}):\n${r.stderr.slice(0, 4000)}`);
    const reports = (Array.isArray(parsed) ? parsed : [parsed]);
    const byFile = new Map(m.templates.map((t) => [fs.realpathSync(t.file), t]));
    const toFinding = (c: RawCheckovCheck): CheckovFinding => {
      const file = c.file_abs_path ?? c.file_path ?? '';
      const t = byFile.get(fs.existsSync(file) ? fs.realpathSync(file) : file);
      const dot = c.resource.indexOf('.');
      const logicalId = dot > 0 ? c.resource.slice(dot + 1) : undefined;
      const info = t ? resourceInfo(t, logicalId) : {};
      return {
        template: t?.name ?? file,
        checkId: c.check_id,
        checkName: c.check_name,
        resource: c.resource,
        resourceType: info.type ?? (dot > 0 ? c.resource.slice(0, dot) : undefined),
        logicalId,
        cdkPath: info.cdkPath,
        guideline: c.guideline ?? undefined,
      };
    };
    const summary = { passed: 0, failed: 0, skipped: 0, parsingErrors: 0, resourceCount: 0 };
    for (const rep of reports) {
      summary.passed += rep.summary?.passed ?? 0;
      summary.failed += rep.summary?.failed ?? 0;
      summary.skipped += rep.summary?.skipped ?? 0;
      summary.parsingErrors += rep.summary?.parsing_errors ?? 0;
      summary.resourceCount += rep.summary?.resource_count ?? 0;
    }
    if (summary.parsingErrors > 0) {
      throw new Error(`checkov could not parse ${summary.parsingErrors} template(s) of ${m.templates.map((t) => t.name).join(', ')}`);
    }
    return {
      failed: reports.flatMap((rep) => rep.results?.failed_checks ?? []).map(toFinding),
      skipped: reports.flatMap((rep) => rep.results?.skipped_checks ?? []).map(toFinding),
      summary,
      templates: m.templates.map((t) => t.name),
      ms: r.ms,
    };
  } finally {
    m.cleanup();
  }
}

export function formatCheckovFinding(f: CheckovFinding): string {
  return `${f.checkId} ${f.template}:${f.cdkPath ?? f.resource} (${f.resourceType ?? '?'}): ${f.checkName}`;
}

/**
 * Runs checkov once and splits the failed checks into those the reviewed list accepts and the
 * rest. Throws if the list accepts a check in CHECKOV_NEVER_ACCEPTED or lacks a reason. The
 * caller decides gating, typically `expect(report.failed.map(formatCheckovFinding)).toEqual([])`.
 */
export async function checkovReport(inputs: readonly TemplateInput[] | TemplateInput, options: CheckovOptions = {}): Promise<CheckovReport> {
  const acceptedList = options.accepted ?? CHECKOV_ACCEPTED;
  validateAcceptances(acceptedList);
  const r = await runCheckov(inputs, options);
  const failed: CheckovFinding[] = [];
  const accepted: Array<CheckovFinding & { acceptance: CheckovAcceptance }> = [];
  const used = new Set<CheckovAcceptance>();
  for (const f of r.failed) {
    const a = acceptedList.find((x) => acceptanceCovers(x, f));
    if (a) {
      used.add(a);
      accepted.push({ ...f, acceptance: a });
    } else {
      failed.push(f);
    }
  }
  return {
    failed,
    accepted,
    skippedInTemplate: r.skipped,
    unusedAcceptances: acceptedList.filter((a) => !used.has(a)),
    summary: r.summary,
    templates: r.templates,
    ms: r.ms,
  };
}

/** Throws on an acceptance without a real reason or of a never-accepted check. */
export function validateAcceptances(list: readonly CheckovAcceptance[]): void {
  const problems: string[] = [];
  for (const a of list) {
    if (!/^CKV2?_[A-Z0-9]+_\d+$/.test(a.id)) problems.push(`${a.id}: not a checkov check id`);
    if (!a.reason || a.reason.trim().length < 20) problems.push(`${a.id}: reason missing or too short`);
    const sanctioned = CHECKOV_SANCTIONED_EXCEPTIONS[a.id];
    const isSanctioned = sanctioned !== undefined && typeof a.path === 'string' && sanctioned.path.test(a.path);
    if (CHECKOV_NEVER_ACCEPTED[a.id] && !isSanctioned) problems.push(`${a.id}: may never be accepted (${CHECKOV_NEVER_ACCEPTED[a.id]})`);
  }
  if (problems.length) throw new Error(`invalid checkov acceptances:\n${problems.join('\n')}`);
}

/**
 * Jest helper for a security test file: collects the template files its harness runs produce
 * and, after all tests, runs cfn-lint (zero errors) and checkov (zero unaccepted failures) over
 * them in one call each. Returns the collector.
 */
export function useTemplateScans(): (templateFiles: readonly string[]) => void {
  const templates: string[] = [];
  afterAll(async () => {
    await expectCfnLintClean(templates);
    const checkov = await checkovReport(templates);
    // eslint-disable-next-line no-console
    console.log(`checkov: ${checkov.summary.passed} passed, ${checkov.failed.length} failed unaccepted, ${checkov.accepted.length} accepted`);
    expect(checkov.failed.map(formatCheckovFinding)).toEqual([]);
  }, 240_000);
  return (templateFiles) => templates.push(...templateFiles);
}
