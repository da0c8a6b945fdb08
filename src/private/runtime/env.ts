/**
 * The handlers' environment: every variable a construct sets is read once, at init, by one typed
 * reader per handler, and a missing one fails the init phase with an error that names it.
 */

/** Variables as `process.env` holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A variable that the construct sets is missing or malformed: the handler cannot start. */
export class EnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

/**
 * The values of the variables `keys` of `names` (a map from a key to the variable's name, such as
 * a construct's env contract): `{ key: value }`. Throws one `EnvironmentError` naming every
 * missing variable, and the construct that sets them (`setBy`).
 */
export function readEnvironment<N extends Readonly<Record<string, string>>, K extends keyof N & string>(
  env: Environment,
  names: N,
  keys: readonly K[],
  setBy: string,
): Record<K, string> {
  const out = {} as Record<K, string>;
  const missing: string[] = [];
  for (const key of keys) {
    const value = env[names[key]];
    if (value === undefined) missing.push(names[key]);
    else out[key] = value;
  }
  if (missing.length) throw new EnvironmentError(`missing environment variable(s): ${missing.join(', ')} (set by the ${setBy} construct)`);
  return out;
}
