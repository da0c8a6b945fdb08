/**
 * The Amazon States Language definitions of a synthesized template's state machines, with every
 * intrinsic (`Ref`, `Fn::GetAtt`, `Fn::Join`) resolved to a deterministic fake value in one
 * account and region, ready for a local interpreter (aws-local-stepfunctions):
 *
 *   const asl = stateMachineDefinition(template.toJSON(), 'HearingReviewStateMachine');
 *   const machine = new StateMachine(asl, { validationOptions: { checkArn: false } });
 *
 * Lambda functions resolve to `arn:aws:lambda:<region>:<account>:function:<logicalId>`, state
 * machines to `arn:aws:states:…:stateMachine:<logicalId>`, event buses to their event-bus ARN;
 * everything else as `resolveTemplate` resolves it (buckets `bucket-<logicalid>`, …).
 */
import { ACCOUNT, REGION, resolveTemplate } from './resolve-template';
import { definitionOf } from '../gpu-training-job/definition-checks';

export { ACCOUNT, REGION };

/** A state of a definition, found anywhere in it (nested Map processors and Parallel branches too). */
export interface StateRef {
  /** `State`, or `Parent/ItemProcessor/State`, `Parent/Branches[0]/State` for nested states. */
  readonly path: string;
  readonly name: string;
  readonly state: Record<string, any>;
}

/** A resolver of template values to plain JSON (fake ARNs, names). */
export function templateResolver(template: any): (value: unknown) => any {
  const resources: Record<string, any> = template.Resources ?? {};
  const base = resolveTemplate(template);
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'Test',
  };
  const arnOf = (id: string): string => {
    switch (resources[id]?.Type) {
      case 'AWS::Lambda::Function': return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
      case 'AWS::StepFunctions::StateMachine': return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${id}`;
      case 'AWS::Events::EventBus': return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${id}`;
      case 'AWS::SQS::Queue': return `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`;
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table': return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${id}`;
      default: return base.arnOf(id);
    }
  };
  const refOf = (id: string): string => {
    switch (resources[id]?.Type) {
      case 'AWS::Lambda::Function': return id;
      case 'AWS::StepFunctions::StateMachine': return arnOf(id);
      case 'AWS::Events::EventBus': return id;
      default: return base.refOf(id);
    }
  };
  const resolve = (value: unknown): any => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, any>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [k] = keys;
      const v = obj[k];
      if (k === 'Ref') return pseudo[v] ?? refOf(v);
      if (k === 'Fn::GetAtt') {
        const [id, attr] = (typeof v === 'string' ? v.split('.') : v) as [string, string];
        return attr === 'Arn' ? arnOf(id) : `${attr}-${id}`;
      }
      if (k === 'Fn::Join') {
        const [sep, parts] = v as [string, unknown[]];
        return (parts as unknown[]).map((p) => String(resolve(p))).join(sep);
      }
      if (k.startsWith('Fn::')) throw new Error(`unsupported intrinsic ${k} in ${JSON.stringify(value)}`);
    }
    return Object.fromEntries(keys.map((key) => [key, resolve(obj[key])]));
  };
  return resolve;
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
