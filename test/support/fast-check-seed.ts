/**
 * Jest setup (setupFilesAfterEnv): every property test of a test file runs from one seed, printed
 * once per file, so that any run can be replayed.
 *
 *   FC_SEED=123456 npx jest test/labeling-pipeline/properties.test.ts   # replay a run
 *
 * The seed is `FC_SEED` when set, else a random one. It becomes fast-check's global seed
 * (`fc.configureGlobal`); a test that passes its own `seed` to `fc.assert` keeps it. A
 * counterexample found in any run is a bug: fix it and pin it as a test.
 */
import * as fc from 'fast-check';

/** The seed of this test file: `FC_SEED` when set (a 32-bit integer), else a random one. */
export function fastCheckSeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FC_SEED?.trim();
  if (raw === undefined || raw === '') return Math.floor(Math.random() * 0x7fffffff);
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed) || seed < -0x80000000 || seed > 0xffffffff) {
    throw new Error(`FC_SEED must be a 32-bit integer (the seed a failing run printed), got '${raw}'`);
  }
  return seed;
}

const seed = fastCheckSeed();
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
console.log(`fast-check seed ${seed} (replay: FC_SEED=${seed})`);
