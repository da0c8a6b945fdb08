/**
 * The Amazon States Language definitions of a synthesized template's state machines, with every
 * intrinsic (`Ref`, `Fn::GetAtt`, `Fn::Join`) resolved to a deterministic fake value in one
 * account and region, ready for a local interpreter (aws-local-stepfunctions):
 *
 *   const asl = stateMachineDefinition(template.toJSON(), 'HearingReviewStateMachine');
 *   const machine = new StateMachine(asl, { validationOptions: { checkArn: false } });
 *
 * Values resolve as `resolveServiceTemplate` (support/resolve-template.ts) resolves them: Lambda
 * functions to `arn:aws:lambda:<region>:<account>:function:<logicalId>`, state machines to
 * `arn:aws:states:…:stateMachine:<logicalId>`, event buses to their event-bus ARN, buckets to
 * `bucket-<logicalid>`, …
 */
import { ACCOUNT, REGION, resolveServiceTemplate } from './resolve-template';
import { definitionOf } from '../gpu-training-job/definition-checks';

export { ACCOUNT, REGION };

/** A state of a definition, found anywhere in it (nested Map processors and Parallel branches too). */
export interface StateRef {
  /** `State`, or `Parent/ItemProcessor/State`, `Parent/Branches[0]/State` for nested states. */
  readonly path: string;
  readonly name: string;
  readonly state: Record<string, any>;
}

/** A resolver of template values to plain JSON (fake ARNs, names): `resolveServiceTemplate`'s. */
export function templateResolver(template: any): (value: unknown) => any {
  return resolveServiceTemplate(template).resolve;
}

/** Logical ids of the template's state machines whose id starts with `prefix`. */
export function stateMachineIds(template: any, prefix = ''): string[] {
  return Object.entries<any>(template.Resources ?? {})
    .filter(([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith(prefix))
    .map(([id]) => id);
}

/** The logical id of the only state machine whose id starts with `prefix`. */
export function stateMachineId(template: any, prefix: string): string {
  const ids = stateMachineIds(template, prefix);
  if (ids.length !== 1) throw new Error(`expected one state machine starting with '${prefix}', found ${ids.join(', ') || 'none'}`);
  return ids[0];
}

/** The resolved definition (ASL JSON) of the only state machine whose logical id starts with `prefix`. */
export function stateMachineDefinition(template: any, prefix: string): Record<string, any> {
  const resolve = templateResolver(template);
  const definition = definitionOf(template.Resources[stateMachineId(template, prefix)], (intrinsic) => String(resolve(intrinsic)));
  // A `Definition` object (rather than a `DefinitionString`) may hold intrinsics of its own.
  return resolve(definition);
}

/** The resolved properties (logging, tracing, encryption, …) of the only state machine whose logical id starts with `prefix`. */
export function stateMachineProperties(template: any, prefix: string): Record<string, any> {
  const { DefinitionString: _d, Definition: _def, ...rest } = template.Resources[stateMachineId(template, prefix)].Properties ?? {};
  return templateResolver(template)(rest);
}

/** Every state of a definition, nested ones (Map processors, Parallel branches) included. */
export function allStates(definition: Record<string, any>, parent = ''): StateRef[] {
  const out: StateRef[] = [];
  for (const [name, state] of Object.entries<any>(definition.States ?? {})) {
    const path = parent ? `${parent}/${name}` : name;
    out.push({ path, name, state });
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) out.push(...allStates(processor, `${path}/${state.ItemProcessor ? 'ItemProcessor' : 'Iterator'}`));
    (state.Branches ?? []).forEach((b: any, i: number) => out.push(...allStates(b, `${path}/Branches[${i}]`)));
  }
  return out;
}

/** The states of a definition (nested ones included) of one type. */
export function statesOfType(definition: Record<string, any>, type: string): StateRef[] {
  return allStates(definition).filter((s) => s.state.Type === type);
}
