import { IConstruct } from 'constructs';

/**
 * Throw an error that names the construct, what was wrong, the value received and what to change.
 *
 * @internal
 */
export function invalidProp(scope: IConstruct, prop: string, received: unknown, expected: string): never {
  throw new Error(
    `${scope.node.path}: invalid ${prop}: received ${describe(received)}; ${expected}`,
  );
}

/**
 * Throw an error for two props that cannot be combined.
 *
 * @internal
 */
export function conflictingProps(scope: IConstruct, message: string): never {
  throw new Error(`${scope.node.path}: ${message}`);
}

function describe(value: unknown): string {
  if (value === undefined) { return 'undefined'; }
  if (typeof value === 'string') { return JSON.stringify(value); }
  if (typeof value === 'object' && value !== null && 'toHumanString' in value) {
    return String((value as { toHumanString(): string }).toHumanString());
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
