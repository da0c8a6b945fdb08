/**
 * Security harness shared by every construct test: cdk-nag 3 packs + the aws-cdk-lib
 * CloudFormation validator over one synthesized App, with the reviewed acknowledgment list.
 *
 *   const app = createSecurityTestApp();
 *   new SecureDataLake(new Stack(app, 'LakeMinimal'), 'Lake');
 *   const report = runSecurityChecks(app, { name: 'secure-data-lake-minimal' });
 *   expectNoUnacknowledgedFindings(report);
 *
 * How it works (cdk-nag 3.0.2, aws-cdk-lib 2.262.0):
 *  1. The acknowledgment list is validated (never-acknowledged rules throw) and each entry is
 *     recorded on every construct whose path matches, as `Validations.of(c).acknowledge()` would.
 *     Acknowledgments already on the tree are classified: listed, aws-cdk-lib's own (validator
 *     rules on aws-cdk-lib constructs), or unlisted (fails the run). Repeated after synthesis for
 *     anything aspects added.
 *  2. `app.synth({ force: true })` runs aspects and the CloudFormation validator, which aws-cdk-lib
 *     registers on every App by itself. With `@aws-cdk/core:validateAgainstDefaultRules: true` its
 *     errors stay errors; with `@aws-cdk/core:failSynthOnValidationErrors: false` synth does not
 *     throw, and the findings (and the ones suppressed by acknowledgments) are read from
 *     `validation-report.json` in the cloud assembly.
 *  3. Each cdk-nag pack runs with `pack.validateScope(app)` on the synthesized tree. cdk-nag drops
 *     acknowledged findings silently, so each pack is subclassed to record every finding its rules
 *     return (`applyRule` is the protected extension point cdk-nag gives pack authors);
 *     acknowledged = recorded minus reported.
 *
 * Validator findings about a resource are reported at its construct path; findings about the
 * template itself (unused parameters, outputs) at the stack's path, so only an acknowledgment
 * on the stack (or the App) covers them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, AppProps, CfnResource, CloudFormationValidatePlugin, Stack, Validations } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import {
  AwsSolutionsChecks,
  HIPAASecurityChecks,
  IApplyRule,
  NagMessageLevel,
  NagPack,
  NagPackProps,
  NagRuleCompliance,
  NagRuleResult,
  NIST80053R5Checks,
  PCIDSS321Checks,
  ServerlessChecks,
} from 'cdk-nag';
import { IConstruct } from 'constructs';
import {
  NEVER_ACKNOWLEDGED,
  NeverAcknowledgedRule,
  REVIEWED_ACKNOWLEDGMENTS,
  SecurityAcknowledgment,
} from './acknowledgments';
import { globToRegExp } from './construct-path-glob';
import { REASON } from '../../src/private/acknowledgments';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/** Name of the aws-cdk-lib validator, as it appears in the validation report. */
export const CFN_VALIDATOR = CloudFormationValidatePlugin.PLUGIN_NAME; // 'CloudFormation Validate'

/** Prefix of acknowledgment ids for CloudFormation validator rules (`CloudFormation-Validate::W3045`). */
export const CFN_VALIDATOR_ACK_PREFIX = `${CFN_VALIDATOR.replace(/ /g, '-')}::`;

export type NagPackName = 'AwsSolutions' | 'HIPAA.Security' | 'NIST.800.53.R5' | 'Serverless' | 'PCI.DSS.321';
export type ScannerName = NagPackName | typeof CFN_VALIDATOR;

/** Every scanner the harness runs, in report order, and whether its findings fail the tests. */
export const SCANNERS: ReadonlyArray<{ readonly name: ScannerName; readonly gating: boolean }> = [
  { name: 'AwsSolutions', gating: true },
  { name: 'HIPAA.Security', gating: true },
  { name: 'NIST.800.53.R5', gating: true },
  { name: 'Serverless', gating: true },
  { name: 'PCI.DSS.321', gating: false },
  { name: CFN_VALIDATOR, gating: true },
];

/** Who recorded the acknowledgment that silenced a finding. */
export type AcknowledgmentSource =
  /** an entry of the acknowledgment list the harness ran with */
  | 'reviewed-list'
  /** shipped by a construct of the library (src/private/acknowledgments.ts), on its own resources */
  | 'library'
  /** aws-cdk-lib itself (its L2s acknowledge a few CloudFormation validator rules) */
  | 'aws-cdk-lib'
  /** any other code, e.g. `Validations.of(this).acknowledge()` in src/: fails the run */
  | 'unlisted';

export interface AcknowledgmentUse {
  /** The construct path the acknowledgment is recorded on (the finding's path or an ancestor). */
  readonly at: string;
  readonly reason: string;
  readonly source: AcknowledgmentSource;
}

export interface SecurityFinding {
  readonly scanner: ScannerName;
  /** The rule id as the scanner reports it: `AwsSolutions-IAM5[Action::s3:*]`, or `W3045` for the validator. */
  readonly ruleId: string;
  /** The id to put in the acknowledgment list (for cdk-nag the same as `ruleId`). */
  readonly acknowledgmentId: string;
  /** `error` or `warning`. Both fail the run for a gating scanner. */
  readonly severity: string;
  readonly constructPath: string;
  readonly message: string;
  /** Set on acknowledged findings. */
  readonly acknowledgedBy?: AcknowledgmentUse;
}

export interface ScannerResult {
  readonly scanner: ScannerName;
  readonly gating: boolean;
  readonly unacknowledged: readonly SecurityFinding[];
  readonly acknowledged: readonly SecurityFinding[];
}

export interface StaleAcknowledgment {
  readonly acknowledgment: SecurityAcknowledgment;
  /** Construct paths the entry matched in this run (may be empty). */
  readonly matchedPaths: readonly string[];
  readonly problem: string;
}

/** An acknowledgment found on a construct that the harness did not put there. */
export interface RecordedAcknowledgment {
  readonly id: string;
  readonly reason: string;
  readonly constructPath: string;
}

export interface SecurityReport {
  /** The run name (`options.name`); used in messages and as the summary file name. */
  readonly name: string;
  readonly scanners: Readonly<Record<ScannerName, ScannerResult>>;
  /** Unacknowledged findings of the gating scanners (the four packs and the validator). */
  readonly gatingFindings: readonly SecurityFinding[];
  /** Unacknowledged findings of the reported-only scanners (PCI.DSS.321). */
  readonly reportedOnlyFindings: readonly SecurityFinding[];
  /** List entries in scope for this run that did not fire. Fails the run. */
  readonly staleAcknowledgments: readonly StaleAcknowledgment[];
  /** Acknowledgments recorded by code other than the harness that are not in the list. Fails the run. */
  readonly unlistedAcknowledgments: readonly RecordedAcknowledgment[];
  /** aws-cdk-lib's own acknowledgments of CloudFormation validator rules (informational). */
  readonly frameworkAcknowledgments: readonly RecordedAcknowledgment[];
  /** List entries without `runs` whose path matched no construct in this app (informational). */
  readonly notApplicableAcknowledgments: readonly SecurityAcknowledgment[];
  /** The synthesized cloud assembly and its templates (for cfn-lint / checkov). */
  readonly assemblyDirectory: string;
  readonly templateFiles: readonly string[];
}

export interface SecurityCheckOptions {
  /**
   * Name of this run: used in failure messages, in acknowledgment `runs` filters, and as the
   * summary file name.
   * @default - the stack paths joined with '+'
   */
  readonly name?: string;
  /**
   * The acknowledgment list. Tests of the harness inject their own.
   * @default REVIEWED_ACKNOWLEDGMENTS
   */
  readonly acknowledgments?: readonly SecurityAcknowledgment[];
  /**
   * Write a JSON summary to `<summaryDirectory>/<name>.json`.
   * @default true
   */
  readonly writeSummary?: boolean;
  /** @default - `test-reports/security` at the repository root */
  readonly summaryDirectory?: string;
}

export interface ScannerCounts {
  readonly gating: boolean;
  readonly unacknowledgedErrors: number;
  readonly unacknowledgedWarnings: number;
  readonly acknowledged: number;
}

export interface SecuritySummary {
  readonly name: string;
  readonly passed: boolean;
  readonly scanners: Readonly<Record<ScannerName, ScannerCounts>>;
  readonly staleAcknowledgments: number;
  readonly unlistedAcknowledgments: number;
}

// ---------------------------------------------------------------------------------------------
// App
// ---------------------------------------------------------------------------------------------

/** The App context the harness needs. */
export const SECURITY_TEST_CONTEXT: Readonly<Record<string, unknown>> = {
  // CloudFormation validator errors stay errors (unset, they are downgraded to warnings).
  [cxapi.VALIDATE_AGAINST_DEFAULT_RULES]: true,
  // Synth writes validation-report.json instead of throwing, so the harness can report everything.
  [cxapi.FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false,
  // aws:cdk:path metadata on every resource (as `cdk synth` writes it), so template scanners
  // (cfn-lint, checkov) can name construct paths.
  [cxapi.PATH_METADATA_ENABLE_CONTEXT]: true,
};

/**
 * Define an App for `runSecurityChecks`. Context can only be set before the first child is
 * added, so the harness cannot fix an App afterwards; create it here.
 */
export function createSecurityTestApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...props.context, ...SECURITY_TEST_CONTEXT } });
}

// ---------------------------------------------------------------------------------------------
// Acknowledgment list
// ---------------------------------------------------------------------------------------------

const NAG_ID = /^(AwsSolutions|HIPAA\.Security|NIST\.800\.53\.R5|Serverless|PCI\.DSS\.321)-[A-Za-z0-9]+(\[.+\])?$/;
const CFN_ID = /^CloudFormation-Validate::[A-Z]\d{4}$/;
const MIN_REASON_LENGTH = 20;

/** The never-acknowledged rule an id falls under, if any. */
export function findNeverAcknowledgedRule(id: string): NeverAcknowledgedRule | undefined {
  const baseId = id.replace(/\[.*\]$/, '');
  return NEVER_ACKNOWLEDGED.find((r) => (typeof r.rule === 'string' ? r.rule === baseId : testRegExp(r.rule, id)));
}

/** Whether `id` may never be acknowledged at `constructPath` (the sanctioned path exceptions apply). */
function isNeverAcknowledged(id: string, constructPath: string): boolean {
  const rule = findNeverAcknowledgedRule(id);
  return rule !== undefined && !(rule.exceptAt && rule.exceptAt.path.test(constructPath));
}

/**
 * Throw if the list holds an acknowledgment of a never-acknowledged rule, a malformed id, an
 * empty path, a reason shorter than 20 characters, or a duplicate.
 */
export function validateAcknowledgments(list: readonly SecurityAcknowledgment[]): void {
  const seen = new Set<string>();
  for (const ack of list) {
    const where = `acknowledgment { id: '${ack.id}', path: ${describePattern(ack.path)} }`;
    const forbidden = findNeverAcknowledgedRule(ack.id);
    const sanctioned = forbidden?.exceptAt && typeof ack.path === 'string' && forbidden.exceptAt.path.test(ack.path);
    if (forbidden && !sanctioned) {
      throw new Error(
        `${where} is forbidden: '${ack.id}' is a ${forbidden.category} rule, and security.md says ${forbidden.category} ` +
        'findings are never acknowledged. Fix the finding instead (see NEVER_ACKNOWLEDGED in test/support/acknowledgments.ts).',
      );
    }
    if (!NAG_ID.test(ack.id) && !CFN_ID.test(ack.id)) {
      throw new Error(
        `${where}: the id is not a cdk-nag id of a pack the harness runs ('AwsSolutions-IAM5[Action::s3:GetObject*]') ` +
        `nor a CloudFormation validator id ('${CFN_VALIDATOR_ACK_PREFIX}W3045'). Copy the id from the failure message.`,
      );
    }
    if (typeof ack.path === 'string' ? ack.path.trim() === '' : ack.path.source === '(?:)') {
      throw new Error(`${where}: the path is empty; give the construct path (or a glob / RegExp) the finding is reported at.`);
    }
    if ((ack.reason ?? '').trim().length < MIN_REASON_LENGTH) {
      throw new Error(`${where}: the reason '${ack.reason}' is too short; write at least ${MIN_REASON_LENGTH} characters for the auditor.`);
    }
    const key = `${ack.id}\u0000${describePattern(ack.path)}`;
    if (seen.has(key)) {
      throw new Error(`${where} is listed twice; remove the duplicate.`);
    }
    seen.add(key);
  }
}

export { globToRegExp };

function matchesPattern(pattern: string | RegExp, value: string): boolean {
  return typeof pattern === 'string' ? globToRegExp(pattern).test(value) : testRegExp(pattern, value);
}

function testRegExp(re: RegExp, value: string): boolean {
  re.lastIndex = 0; // a /g or /y RegExp keeps state between calls
  return re.test(value);
}

function describePattern(pattern: string | RegExp): string {
  return typeof pattern === 'string' ? `'${pattern}'` : pattern.toString();
}

// ---------------------------------------------------------------------------------------------
// cdk-nag packs that record every finding, acknowledged or not
// ---------------------------------------------------------------------------------------------

interface RawNagFinding {
  readonly ruleId: string;
  readonly severity: string;
  readonly message: string;
  readonly constructPath: string;
}

/** Typed as abstract: TypeScript cannot see that each concrete pack implements NagPack's abstract members. */
type NagPackConstructor = abstract new (scope?: IConstruct, props?: NagPackProps) => NagPack;

/** A pack of class `Base` that also records every finding its rules return. */
function createRecordingPack(Base: NagPackConstructor): NagPack & { readonly recorded: readonly RawNagFinding[] } {
  abstract class RecordingNagPack extends Base {
    public readonly recorded: RawNagFinding[] = [];

    protected applyRule(params: IApplyRule): void {
      // Same id derivation as NagPack.applyRule; passing the suffix explicitly keeps it stable
      // although the rule function is wrapped (cdk-nag otherwise uses `rule.name`).
      const suffix = params.ruleSuffixOverride ?? params.rule.name;
      const ruleId = `${this.readPackName}-${suffix}`;
      const severity = params.level === NagMessageLevel.ERROR ? 'error' : 'warning';
      const original = params.rule;
      const record = (id: string, message: string) =>
        this.recorded.push({ ruleId: id, severity, message, constructPath: params.node.node.path });
      super.applyRule({
        ...params,
        ruleSuffixOverride: suffix,
        rule: (node: CfnResource): NagRuleResult => {
          let result: NagRuleResult;
          try {
            result = original(node);
          } catch (e) {
            record(ruleId, `Rule threw an error during validation: ${(e as Error).message}`);
            throw e;
          }
          if (result === NagRuleCompliance.NON_COMPLIANT) {
            record(ruleId, params.info);
          } else if (Array.isArray(result)) {
            for (const finding of result) record(`${ruleId}[${finding}]`, params.info);
          }
          return result;
        },
      });
    }
  }
  return new (RecordingNagPack as unknown as new () => RecordingNagPack)();
}

const NAG_PACKS: ReadonlyArray<{ readonly name: NagPackName; readonly pack: NagPackConstructor }> = [
  { name: 'AwsSolutions', pack: AwsSolutionsChecks },
  { name: 'HIPAA.Security', pack: HIPAASecurityChecks },
  { name: 'NIST.800.53.R5', pack: NIST80053R5Checks },
  { name: 'Serverless', pack: ServerlessChecks },
  { name: 'PCI.DSS.321', pack: PCIDSS321Checks },
];

/**
 * Every rule id each pack can report (base ids, without granular suffixes): each pack applies
 * its rules to a dummy resource without evaluating them.
 */
export function nagRuleIds(): Record<NagPackName, string[]> {
  const stack = new Stack(new App(), 'RuleList');
  const dummy = new CfnResource(stack, 'Dummy', { type: 'AWS::CloudFormation::WaitConditionHandle' });
  return Object.fromEntries(NAG_PACKS.map(({ name, pack }) => {
    const ids: string[] = [];
    abstract class Lister extends pack {
      public list(): void {
        this.checkResource(dummy);
      }
      protected applyRule(params: IApplyRule): void {
        ids.push(`${this.readPackName}-${params.ruleSuffixOverride ?? params.rule.name}`);
      }
    }
    new (Lister as unknown as new () => Lister)().list();
    return [name, ids];
  })) as Record<NagPackName, string[]>;
}

// ---------------------------------------------------------------------------------------------
// Acknowledgments on the construct tree
// ---------------------------------------------------------------------------------------------

interface TreeAcknowledgment {
  readonly id: string;
  readonly reason: string;
  readonly constructPath: string;
  readonly source: AcknowledgmentSource;
  /** The list entries this acknowledgment stands for (source 'reviewed-list'). */
  readonly entries: SecurityAcknowledgment[];
  /** Whether a finding was acknowledged by it (tracked for source 'library'). */
  used?: boolean;
}

/** The reasons the library ships (src/private/acknowledgments.ts): they mark its acknowledgments. */
const LIBRARY_REASONS: readonly string[] = Object.values(REASON);
const isLibraryReason = (reason: string) => LIBRARY_REASONS.some((r) => reason.includes(r));

/** Acknowledgments recorded on a construct (ids without the 'Annotation::' prefix CDK adds to plain ids). */
function acknowledgmentsOn(construct: IConstruct): Array<{ id: string; reason: string }> {
  const found: Array<{ id: string; reason: string }> = [];
  for (const entry of construct.node.metadata) {
    if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && entry.data) {
      for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ id: key.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}

function isAwsCdkLibConstruct(construct: IConstruct): boolean {
  const rtti = (construct.constructor as unknown as Record<symbol, { fqn?: string } | undefined>)[Symbol.for('jsii.rtti')];
  return rtti?.fqn?.startsWith('aws-cdk-lib.') ?? false;
}

/**
 * Record an acknowledgment the way `Validations.of(c).acknowledge()` does. That method rejects ids
 * with more than one '::' (it reads the first as a prefix separator), which rules out most
 * granular IAM findings (`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::b/*]`); for those
 * the same metadata entry is written directly, which is what cdk-nag and aws-cdk-lib read.
 */
function acknowledge(construct: IConstruct, id: string, reason: string): void {
  try {
    Validations.of(construct).acknowledge({ id, reason });
  } catch (e) {
    if (!/Invalid validation rule ID/.test((e as Error).message)) throw e;
    construct.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [id]: reason });
  }
}

/** The nearest acknowledgment of `id` on the construct at `constructPath` or an ancestor. */
function coveringAcknowledgments(byPath: Map<string, TreeAcknowledgment[]>, constructPath: string, id: string): TreeAcknowledgment[] {
  const covering: TreeAcknowledgment[] = [];
  const segments = constructPath === '' ? [] : constructPath.split('/');
  for (let n = segments.length; n >= 0; n--) {
    for (const ack of byPath.get(segments.slice(0, n).join('/')) ?? []) {
      if (ack.id === id) covering.push(ack);
    }
  }
  return covering; // nearest first
}

// ---------------------------------------------------------------------------------------------
// CloudFormation validator report (validation-report.json)
// ---------------------------------------------------------------------------------------------

interface ReportViolation {
  readonly ruleName: string;
  readonly description: string;
  readonly severity: string;
  readonly violatingConstructs: ReadonlyArray<{
    readonly constructPath: string;
    readonly cloudFormationResource?: { readonly templatePath: string; readonly logicalId: string; readonly propertyPaths?: string[] };
  }>;
}

interface PluginReport {
  readonly pluginName: string;
  readonly conclusion: string;
  readonly metadata?: Record<string, string>;
  readonly violations: readonly ReportViolation[];
  readonly suppressedViolations?: readonly ReportViolation[];
}

function readCfnValidatorReport(assemblyDirectory: string): { violations: ReportViolation[]; suppressed: ReportViolation[] } {
  const file = path.join(assemblyDirectory, cxapi.VALIDATION_REPORT_FILE);
  if (!fs.existsSync(file)) {
    throw new Error(
      `The CloudFormation validator did not run: ${file} was not written by synth. ` +
      'Check that aws-cdk-lib still registers CloudFormationValidatePlugin on every App.',
    );
  }
  const json = JSON.parse(fs.readFileSync(file, 'utf-8')) as { pluginReports?: PluginReport[] };
  const reports = (json.pluginReports ?? []).filter((r) => r.pluginName === CFN_VALIDATOR);
  for (const r of reports) {
    if (r.metadata?.error) {
      throw new Error(`The CloudFormation validator failed to run: ${r.metadata.error}`);
    }
  }
  return {
    violations: reports.flatMap((r) => r.violations),
    suppressed: reports.flatMap((r) => r.suppressedViolations ?? []),
  };
}

/**
 * One finding per violating construct. The plugin groups diagnostics by rule and keeps the first
 * diagnostic's description for the whole group; the property paths are per construct.
 */
function cfnFindings(violations: readonly ReportViolation[]): SecurityFinding[] {
  const findings: SecurityFinding[] = [];
  for (const v of violations) {
    for (const c of v.violatingConstructs) {
      const res = c.cloudFormationResource;
      const at = res?.propertyPaths?.length ? ` [${res.propertyPaths.join(', ')}]` : '';
      const constructPath = c.constructPath || (res ? `${res.templatePath}#${res.logicalId}` : '');
      findings.push({
        scanner: CFN_VALIDATOR,
        ruleId: v.ruleName,
        acknowledgmentId: `${CFN_VALIDATOR_ACK_PREFIX}${v.ruleName}`,
        severity: v.severity,
        constructPath,
        message: `${v.description}${at}`,
      });
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/**
 * Run the security packs and the CloudFormation validator over an App that has not been
 * checked before (create it with `createSecurityTestApp`). Synthesizes the App once.
 */
export function runSecurityChecks(app: App, options: SecurityCheckOptions = {}): SecurityReport {
  if (!App.isApp(app)) {
    throw new Error('runSecurityChecks needs the App (the root of the construct tree), not a Stack or construct.');
  }
  for (const [key, value] of Object.entries(SECURITY_TEST_CONTEXT)) {
    if (app.node.tryGetContext(key) !== value) {
      throw new Error(
        `runSecurityChecks needs App context '${key}' = ${String(value)}, got ${String(app.node.tryGetContext(key))}. ` +
        'Create the App with createSecurityTestApp() (context cannot be set after the first child is added).',
      );
    }
  }
  const all = app.node.findAll();
  const name = options.name ?? (all.filter((c) => Stack.isStack(c)).map((s) => s.node.path).join('+') || 'app');
  const list = options.acknowledgments ?? REVIEWED_ACKNOWLEDGMENTS;
  validateAcknowledgments(list);

  // 1. Acknowledgments already on the tree (src/ code, aws-cdk-lib), then the list entries.
  //    Both are done again after synthesis for constructs and acknowledgments that aspects add.
  const inScope = list.filter((a) => !a.runs || a.runs.some((r) => matchesPattern(r, name)));
  const acksByPath = new Map<string, TreeAcknowledgment[]>();
  const known = (constructPath: string, id: string) => (acksByPath.get(constructPath) ?? []).find((a) => a.id === id);
  const addAck = (ack: TreeAcknowledgment) => acksByPath.set(ack.constructPath, [...(acksByPath.get(ack.constructPath) ?? []), ack]);
  const unlisted: RecordedAcknowledgment[] = [];
  const framework: RecordedAcknowledgment[] = [];
  const matchedPaths = new Map<SecurityAcknowledgment, Set<string>>(inScope.map((e) => [e, new Set<string>()]));
  const recordAndApply = (constructs: IConstruct[]) => {
    for (const construct of constructs) {
      const constructPath = construct.node.path;
      for (const { id, reason } of acknowledgmentsOn(construct)) {
        if (known(constructPath, id)) continue;
        const entries = inScope.filter((a) => a.id === id && matchesPattern(a.path, constructPath));
        const isFramework = entries.length === 0 && id.startsWith(CFN_VALIDATOR_ACK_PREFIX) && isAwsCdkLibConstruct(construct);
        // Shipped by the library: never for a never-acknowledged rule nor a validator rule (those
        // are suppressed app-wide by id, which would hide the user's own findings).
        const isLibrary = entries.length === 0 && !isFramework && isLibraryReason(reason)
          && !id.startsWith(CFN_VALIDATOR_ACK_PREFIX) && !isNeverAcknowledged(id, constructPath);
        const source: AcknowledgmentSource = entries.length > 0 ? 'reviewed-list' : isFramework ? 'aws-cdk-lib' : isLibrary ? 'library' : 'unlisted';
        addAck({ id, reason, constructPath, source, entries });
        if (source === 'unlisted') unlisted.push({ id, reason, constructPath });
        if (source === 'aws-cdk-lib') framework.push({ id, reason, constructPath });
      }
    }
    for (const entry of inScope) {
      for (const construct of constructs.filter((c) => matchesPattern(entry.path, c.node.path))) {
        const constructPath = construct.node.path;
        matchedPaths.get(entry)!.add(constructPath);
        const existing = known(constructPath, entry.id);
        if (existing) {
          if (!existing.entries.includes(entry)) existing.entries.push(entry);
          continue;
        }
        acknowledge(construct, entry.id, entry.reason);
        addAck({ id: entry.id, reason: entry.reason, constructPath, source: 'reviewed-list', entries: [entry] });
      }
    }
  };
  recordAndApply(all);

  // 2. Synthesize: aspects, templates, and the CloudFormation validator. `force` in case the test
  //    synthesized before (Template.fromStack caches the assembly), so the acknowledgments count.
  const assembly = app.synth({ force: true });
  recordAndApply(app.node.findAll());
  const cfnReport = readCfnValidatorReport(assembly.directory);

  const fired = new Set<SecurityAcknowledgment>();
  const acknowledgedBy = (finding: SecurityFinding): AcknowledgmentUse | undefined => {
    const covering = coveringAcknowledgments(acksByPath, finding.constructPath, finding.acknowledgmentId);
    if (covering.length === 0) return undefined;
    covering.forEach((a) => { a.used = true; a.entries.forEach((e) => fired.add(e)); });
    return { at: covering[0].constructPath, reason: covering[0].reason, source: covering[0].source };
  };

  const results = {} as Record<ScannerName, ScannerResult>;

  // 3. cdk-nag packs over the synthesized tree.
  for (const { name: packName, pack } of NAG_PACKS) {
    const instance = createRecordingPack(pack);
    const report = instance.validateScope(app);
    const reported = new Set<string>();
    const unacknowledged: SecurityFinding[] = [];
    for (const v of report.violations) {
      for (const r of v.violatingResources) {
        const constructPath = r.constructPath ?? '';
        reported.add(`${v.ruleName}\u0000${constructPath}`);
        unacknowledged.push({
          scanner: packName,
          ruleId: v.ruleName,
          acknowledgmentId: v.ruleName,
          severity: v.severity ?? 'error',
          constructPath,
          message: v.description,
        });
      }
    }
    const recordedKeys = new Set(instance.recorded.map((f) => `${f.ruleId}\u0000${f.constructPath}`));
    const notRecorded = [...reported].filter((k) => !recordedKeys.has(k));
    if (notRecorded.length > 0) {
      throw new Error(`Harness out of step with cdk-nag: ${packName} reported findings the harness did not record: ${notRecorded.join('; ')}`);
    }
    const acknowledged: SecurityFinding[] = [];
    for (const f of instance.recorded) {
      if (reported.has(`${f.ruleId}\u0000${f.constructPath}`)) continue;
      const finding: SecurityFinding = { scanner: packName, acknowledgmentId: f.ruleId, ...f };
      const by = acknowledgedBy(finding);
      if (!by) {
        throw new Error(
          `Harness out of step with cdk-nag: ${packName} dropped ${f.ruleId} at ${f.constructPath}, ` +
          'but no acknowledgment of that id is recorded on the construct or its ancestors.',
        );
      }
      acknowledged.push({ ...finding, acknowledgedBy: by });
    }
    results[packName] = { scanner: packName, gating: gatingOf(packName), unacknowledged, acknowledged };
  }

  // 4. CloudFormation validator. aws-cdk-lib suppresses a validator rule app-wide once any
  //    construct acknowledges it; a suppressed finding only counts as acknowledged here when the
  //    acknowledgment is on the finding's construct or an ancestor.
  const cfnUnacknowledged = cfnFindings(cfnReport.violations);
  const cfnAcknowledged: SecurityFinding[] = [];
  for (const finding of cfnFindings(cfnReport.suppressed)) {
    const by = acknowledgedBy(finding);
    if (by) {
      cfnAcknowledged.push({ ...finding, acknowledgedBy: by });
    } else {
      cfnUnacknowledged.push({
        ...finding,
        message: `${finding.message} (suppressed by aws-cdk-lib because '${finding.acknowledgmentId}' is acknowledged elsewhere in the app, not on this construct)`,
      });
    }
  }
  results[CFN_VALIDATOR] = {
    scanner: CFN_VALIDATOR,
    gating: gatingOf(CFN_VALIDATOR),
    unacknowledged: cfnUnacknowledged,
    acknowledged: cfnAcknowledged,
  };

  // 5. Stale and not-applicable list entries.
  const stale: StaleAcknowledgment[] = [];
  const notApplicable: SecurityAcknowledgment[] = [];
  for (const entry of inScope) {
    const paths = [...(matchedPaths.get(entry) ?? [])];
    if (fired.has(entry)) continue;
    if (paths.length > 0) {
      stale.push({ acknowledgment: entry, matchedPaths: paths, problem: `matched ${paths.join(', ')} but no '${entry.id}' finding fired there` });
    } else if (entry.runs) {
      stale.push({ acknowledgment: entry, matchedPaths: paths, problem: `is meant for run '${name}' but its path matches no construct` });
    } else {
      notApplicable.push(entry);
    }
  }

  // Acknowledgments the library ships must each acknowledge a finding where they are applied.
  for (const ack of [...acksByPath.values()].flat().filter((a) => a.source === 'library' && !a.used)) {
    stale.push({
      acknowledgment: { id: ack.id, path: ack.constructPath, reason: ack.reason },
      matchedPaths: [ack.constructPath],
      problem: `is shipped by the library (src/private/acknowledgments.ts) at ${ack.constructPath}, but no '${ack.id}' finding fired there`,
    });
  }

  const scanners = Object.fromEntries(SCANNERS.map((s) => [s.name, results[s.name]])) as Record<ScannerName, ScannerResult>;
  const report: SecurityReport = {
    name,
    scanners,
    gatingFindings: SCANNERS.filter((s) => s.gating).flatMap((s) => scanners[s.name].unacknowledged),
    reportedOnlyFindings: SCANNERS.filter((s) => !s.gating).flatMap((s) => scanners[s.name].unacknowledged),
    staleAcknowledgments: stale,
    unlistedAcknowledgments: unlisted,
    frameworkAcknowledgments: framework,
    notApplicableAcknowledgments: notApplicable,
    assemblyDirectory: assembly.directory,
    templateFiles: assembly.stacksRecursively.map((s) => s.templateFullPath),
  };
  if (options.writeSummary ?? true) {
    writeSecuritySummary(report, options.summaryDirectory);
  }
  return report;
}

function gatingOf(scanner: ScannerName): boolean {
  return SCANNERS.find((s) => s.name === scanner)!.gating;
}

// ---------------------------------------------------------------------------------------------
// Assertions and summaries
// ---------------------------------------------------------------------------------------------

/** Whether the run passes: no unacknowledged gating finding, no stale or unlisted acknowledgment. */
export function securityReportPassed(report: SecurityReport): boolean {
  return report.gatingFindings.length === 0 && report.staleAcknowledgments.length === 0 && report.unlistedAcknowledgments.length === 0;
}

/**
 * Fail the test unless the run passed. The message lists each unacknowledged gating finding
 * (scanner, rule id, construct path, message), each stale and each unlisted acknowledgment.
 */
export function expectNoUnacknowledgedFindings(report: SecurityReport): void {
  if (securityReportPassed(report)) return;
  const lines = [`Security checks for '${report.name}' failed.`];
  if (report.gatingFindings.length > 0) {
    lines.push('', `${report.gatingFindings.length} unacknowledged finding(s) (fix them, or add a reviewed entry to test/support/acknowledgments.ts):`);
    for (const f of report.gatingFindings) {
      const forbidden = findNeverAcknowledgedRule(f.acknowledgmentId);
      const hint = forbidden ? `  [${forbidden.category}: must be fixed, cannot be acknowledged]` : `  [ack id: ${f.acknowledgmentId}]`;
      lines.push(`  - [${f.scanner}] ${f.ruleId} (${f.severity}) at ${f.constructPath}: ${f.message}${hint}`);
    }
  }
  if (report.staleAcknowledgments.length > 0) {
    lines.push('', `${report.staleAcknowledgments.length} stale acknowledgment(s) (remove them from the list, or fix the path):`);
    for (const s of report.staleAcknowledgments) {
      lines.push(`  - { id: '${s.acknowledgment.id}', path: ${describePattern(s.acknowledgment.path)} } ${s.problem}`);
    }
  }
  if (report.unlistedAcknowledgments.length > 0) {
    lines.push('', `${report.unlistedAcknowledgments.length} acknowledgment(s) made outside the reviewed list (move them into test/support/acknowledgments.ts):`);
    for (const u of report.unlistedAcknowledgments) {
      const forbidden = findNeverAcknowledgedRule(u.id);
      const hint = forbidden ? ` [${forbidden.category}: never acknowledged]` : '';
      lines.push(`  - '${u.id}' at ${u.constructPath}: '${u.reason}'${hint}`);
    }
  }
  lines.push('', formatSecurityReport(report));
  throw new Error(lines.join('\n'));
}

/** Counts per scanner, for closing notes. */
export function summarizeSecurityReport(report: SecurityReport): SecuritySummary {
  const scanners = Object.fromEntries(SCANNERS.map(({ name }) => {
    const r = report.scanners[name];
    return [name, {
      gating: r.gating,
      unacknowledgedErrors: r.unacknowledged.filter((f) => f.severity === 'error').length,
      unacknowledgedWarnings: r.unacknowledged.filter((f) => f.severity !== 'error').length,
      acknowledged: r.acknowledged.length,
    }];
  })) as Record<ScannerName, ScannerCounts>;
  return {
    name: report.name,
    passed: securityReportPassed(report),
    scanners,
    staleAcknowledgments: report.staleAcknowledgments.length,
    unlistedAcknowledgments: report.unlistedAcknowledgments.length,
  };
}

/** A small table of the counts per scanner. */
export function formatSecurityReport(report: SecurityReport): string {
  const summary = summarizeSecurityReport(report);
  const rows = SCANNERS.map(({ name }) => {
    const c = summary.scanners[name];
    return `  ${name.padEnd(24)}${(c.gating ? 'gating' : 'reported').padEnd(10)}` +
      `${String(c.unacknowledgedErrors).padStart(6)}${String(c.unacknowledgedWarnings).padStart(9)}${String(c.acknowledged).padStart(7)}`;
  });
  return [
    `Security report '${summary.name}': ${summary.passed ? 'PASS' : 'FAIL'}`,
    `  ${'scanner'.padEnd(24)}${'role'.padEnd(10)}${'errors'.padStart(6)}${'warnings'.padStart(9)}${'acked'.padStart(7)}`,
    ...rows,
    `  stale acknowledgments: ${summary.staleAcknowledgments}, unlisted acknowledgments: ${summary.unlistedAcknowledgments}`,
  ].join('\n');
}

/** Write `<directory>/<name>.json` with the counts and the findings; returns the file path. */
export function writeSecuritySummary(report: SecurityReport, directory?: string): string {
  const dir = directory ?? path.resolve(__dirname, '..', '..', 'test-reports', 'security');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${report.name.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
  const strip = (f: SecurityFinding) => ({ ruleId: f.ruleId, severity: f.severity, constructPath: f.constructPath, message: f.message });
  const content = {
    ...summarizeSecurityReport(report),
    findings: Object.fromEntries(SCANNERS.map(({ name }) => [name, {
      unacknowledged: report.scanners[name].unacknowledged.map(strip),
      acknowledged: report.scanners[name].acknowledged.map((f) => ({ ...strip(f), acknowledgedBy: f.acknowledgedBy })),
    }])),
    stale: report.staleAcknowledgments.map((s) => ({ id: s.acknowledgment.id, path: describePattern(s.acknowledgment.path), problem: s.problem })),
    unlisted: report.unlistedAcknowledgments,
    awsCdkLibAcknowledgments: report.frameworkAcknowledgments,
  };
  fs.writeFileSync(file, `${JSON.stringify(content, undefined, 2)}\n`);
  return file;
}
