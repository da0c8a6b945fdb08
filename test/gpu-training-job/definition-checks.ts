/**
 * Our own static rules on synthesized Step Functions definitions (security.md, static item 3),
 * for what cdk-nag does not look at: the parameters of SageMaker training tasks and the error
 * handling of every Task state.
 *
 *   const findings = checkStateMachines(Template.fromStack(stack).toJSON());
 *   expect(findings).toEqual([]);
 *
 * Rules (ids in `DefinitionFinding.rule`):
 *   - `task-retry`: every Task state has a Retry with at least one bounded retrier.
 *   - `task-catch`: every Task state has a Catch that catches `States.ALL` (or
 *     `States.TaskFailed`).
 *   - `training-no-retry-on-failure`: a training task does not retry `States.ALL` or
 *     `States.TaskFailed` (that would run a failed training job again).
 *   - `training-output-kms`: `OutputDataConfig.KmsKeyId` is set.
 *   - `training-volume-kms`: `ResourceConfig.VolumeKmsKeyId` is set, except for instance types
 *     with local NVMe storage, where it must be absent (SageMaker rejects it).
 *   - `training-network-isolation`: `EnableNetworkIsolation` is true, unless the check is told
 *     that the state machine opted out.
 *   - `training-inter-container-encryption`: `EnableInterContainerTrafficEncryption` is true when
 *     `InstanceCount` is more than 1 (or not a literal).
 *   - `training-max-runtime`: `StoppingCondition.MaxRuntimeInSeconds` is set (1 s to 28 days).
 *   - `training-spot-checkpoints`: managed spot training has a `CheckpointConfig` and a
 *     `MaxWaitTimeInSeconds` of at least the max runtime.
 *
 * Pure functions (no aws-cdk-lib): they read the template JSON.
 *
 * @internal
 */
import { TrainingInstanceType } from '../../src/gpu-training-job/instance-type';

/** One rule violation. @internal */
export interface DefinitionFinding {
  /** The state machine's logical id (or `definition` when a definition was checked directly). */
  readonly stateMachine: string;
  /** The state's name (nested states: `Parent/Branch[0]/State`). */
  readonly state: string;
  /** The rule id. */
  readonly rule: string;
  readonly message: string;
}

/** Options of the checks. @internal */
export interface DefinitionCheckOptions {
  /**
   * Logical ids of state machines whose training tasks opted out of network isolation.
   * @default - none
   */
  readonly networkIsolationOptOut?: readonly string[];
}

const TRAINING_RESOURCE = /:states:::sagemaker:createTrainingJob(\.sync|\.waitForTaskToken)?$/;
const MAX_RUNTIME_SECONDS = 28 * 24 * 3600;

/**
 * The definition of a synthesized `AWS::StepFunctions::StateMachine` resource as JSON: every
 * intrinsic in its `Fn::Join` is replaced by `resolveToken(intrinsic)` (by default the
 * placeholder `{{token}}`; the result must not need JSON escaping).
 *
 * @internal
 */
export function definitionOf(
  resource: { Properties?: Record<string, unknown> },
  resolveToken: (intrinsic: unknown) => string = () => '{{token}}',
): Record<string, any> {
  const props = resource.Properties ?? {};
  if (props.Definition && typeof props.Definition === 'object') {
    return props.Definition as Record<string, any>;
  }
  const value = props.DefinitionString;
  if (typeof value === 'string') {
    return JSON.parse(value);
  }
  const join = (value as Record<string, unknown> | undefined)?.['Fn::Join'] as [string, unknown[]] | undefined;
  if (!join) {
    throw new Error(`cannot read the state machine definition: expected DefinitionString as a string or Fn::Join, received ${JSON.stringify(value)}`);
  }
  const [separator, parts] = join;
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : resolveToken(p))).join(separator));
}

/**
 * Check every state machine of a synthesized template.
 *
 * @internal
 */
export function checkStateMachines(template: { Resources?: Record<string, any> }, options: DefinitionCheckOptions = {}): DefinitionFinding[] {
  const findings: DefinitionFinding[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') { continue; }
    findings.push(...checkDefinition(definitionOf(resource), {
      stateMachine: logicalId,
      allowNetworkAccess: (options.networkIsolationOptOut ?? []).includes(logicalId),
    }));
  }
  return findings;
}

/**
 * Check one definition (Amazon States Language JSON).
 *
 * @internal
 */
export function checkDefinition(
  definition: Record<string, any>,
  options: { readonly stateMachine?: string; readonly allowNetworkAccess?: boolean } = {},
): DefinitionFinding[] {
  const findings: DefinitionFinding[] = [];
  const stateMachine = options.stateMachine ?? 'definition';
  const visit = (states: Record<string, any>, prefix: string) => {
    for (const [name, state] of Object.entries(states ?? {})) {
      const where = `${prefix}${name}`;
      const report = (rule: string, message: string) => findings.push({ stateMachine, state: where, rule, message });
      if (state.Type === 'Parallel') {
        (state.Branches ?? []).forEach((b: any, i: number) => visit(b.States, `${where}/Branch[${i}]/`));
      }
      if (state.Type === 'Map') {
        const processor = state.ItemProcessor ?? state.Iterator;
        if (processor) { visit(processor.States, `${where}/`); }
      }
      if (state.Type !== 'Task') { continue; }
      checkErrorHandling(state, report);
      if (typeof state.Resource === 'string' && TRAINING_RESOURCE.test(state.Resource)) {
        checkTrainingTask(state, report, options.allowNetworkAccess ?? false);
      }
    }
  };
  visit(definition.States, '');
  return findings;
}

type Report = (rule: string, message: string) => void;

function checkErrorHandling(state: any, report: Report) {
  const retriers: any[] = Array.isArray(state.Retry) ? state.Retry : [];
  if (retriers.length === 0) {
    report('task-retry', 'the Task state has no Retry: transient errors (throttling, service faults) fail the execution');
  }
  for (const r of retriers) {
    const attempts = r.MaxAttempts ?? 3;
    if (!Array.isArray(r.ErrorEquals) || r.ErrorEquals.length === 0 || !Number.isInteger(attempts) || attempts < 1 || attempts > 10) {
      report('task-retry', `a retrier is not bounded or matches nothing: ${JSON.stringify(r)} (expected ErrorEquals and MaxAttempts 1 to 10)`);
    }
  }
  const catchers: any[] = Array.isArray(state.Catch) ? state.Catch : [];
  if (!catchers.some((c) => Array.isArray(c.ErrorEquals) && (c.ErrorEquals.includes('States.ALL') || c.ErrorEquals.includes('States.TaskFailed')))) {
    report('task-catch', 'the Task state has no Catch of States.ALL (or States.TaskFailed): a failure ends the execution without recording why');
  }
}

function checkTrainingTask(state: any, report: Report, allowNetworkAccess: boolean) {
  const p = state.Parameters ?? {};
  const has = (obj: any, key: string) => obj !== undefined && obj !== null && (isSet(obj[key]) || isSet(obj[`${key}.$`]));

  for (const r of (Array.isArray(state.Retry) ? state.Retry : [])) {
    if ((r.ErrorEquals ?? []).some((e: string) => e === 'States.ALL' || e === 'States.TaskFailed')) {
      report('training-no-retry-on-failure', `the training task retries ${JSON.stringify(r.ErrorEquals)}: a failed training job would run again; retry only API errors`);
    }
  }
  if (!has(p.OutputDataConfig, 'KmsKeyId')) {
    report('training-output-kms', 'OutputDataConfig.KmsKeyId is not set: the model artifact would be encrypted with the bucket default or an AWS managed key');
  }
  const rc = p.ResourceConfig ?? {};
  const instanceType = rc.InstanceType;
  let nvme: boolean | undefined;
  if (typeof instanceType === 'string' && instanceType !== '{{token}}') {
    try {
      nvme = TrainingInstanceType.of(instanceType).hasLocalNvmeStorage;
    } catch {
      nvme = undefined;
    }
  }
  if (nvme === true && has(rc, 'VolumeKmsKeyId')) {
    report('training-volume-kms', `ResourceConfig.VolumeKmsKeyId is set for ${instanceType}, whose storage is local NVMe: SageMaker rejects the job`);
  }
  if (nvme !== true && !has(rc, 'VolumeKmsKeyId')) {
    report('training-volume-kms', `ResourceConfig.VolumeKmsKeyId is not set for ${JSON.stringify(instanceType ?? rc['InstanceType.$'])} (EBS storage): the ML storage volume is not encrypted with a customer-managed key`);
  }
  if (p.EnableNetworkIsolation !== true && !allowNetworkAccess) {
    report('training-network-isolation', `EnableNetworkIsolation is ${JSON.stringify(p.EnableNetworkIsolation)}: the training container can reach the network`);
  }
  const count = rc.InstanceCount;
  if ((typeof count !== 'number' || count > 1) && p.EnableInterContainerTrafficEncryption !== true) {
    report('training-inter-container-encryption', `InstanceCount is ${JSON.stringify(count ?? rc['InstanceCount.$'])} and EnableInterContainerTrafficEncryption is not true: traffic between instances is not encrypted`);
  }
  const stopping = p.StoppingCondition ?? {};
  const maxRuntime = stopping.MaxRuntimeInSeconds;
  if (!(typeof maxRuntime === 'number' && maxRuntime >= 1 && maxRuntime <= MAX_RUNTIME_SECONDS) && !isSet(stopping['MaxRuntimeInSeconds.$'])) {
    report('training-max-runtime', `StoppingCondition.MaxRuntimeInSeconds is ${JSON.stringify(maxRuntime)}: expected 1 to ${MAX_RUNTIME_SECONDS} seconds`);
  }
  if (p.EnableManagedSpotTraining === true) {
    if (!p.CheckpointConfig || !has(p.CheckpointConfig, 'S3Uri')) {
      report('training-spot-checkpoints', 'managed spot training without CheckpointConfig.S3Uri: an interrupted job starts again from scratch');
    }
    const maxWait = stopping.MaxWaitTimeInSeconds;
    if (!(typeof maxWait === 'number' && typeof maxRuntime === 'number' && maxWait >= maxRuntime)) {
      report('training-spot-checkpoints', `managed spot training needs StoppingCondition.MaxWaitTimeInSeconds >= MaxRuntimeInSeconds (received ${JSON.stringify(maxWait)} and ${JSON.stringify(maxRuntime)})`);
    }
  }
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}
