import * as fc from 'fast-check';

/** The seed of the model-monitor properties: FC_SEED when set, else a fresh one (printed, to replay a failure). */
export const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);

/** Run a property with the shared seed, printing the seed first so a failure can be replayed. */
export function checkProperty<Ts extends [unknown, ...unknown[]]>(name: string, property: fc.IProperty<Ts>, numRuns = 200): void {
  console.log(`${name}: fast-check seed ${SEED} (replay with FC_SEED=${SEED})`);
  fc.assert(property, { seed: SEED, numRuns });
}
