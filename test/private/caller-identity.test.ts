import { createHash } from 'node:crypto';
import * as fc from 'fast-check';
import { callerKeySegment } from '../../src/private/runtime/caller-identity';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The seed of this file's properties: FC_SEED when set, else a fresh one (printed, to replay a failure). */
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);

/** What a caller segment may be: one folder name that no path or option parser misreads. */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

describe('callerKeySegment', () => {
  test('uses the Cognito sub, then the identity id, then a hash of the IAM ARN', () => {
    expect(callerKeySegment({ cognitoSub: '7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1' }, sha)).toBe('7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1');
    expect(callerKeySegment({ cognitoIdentityId: 'eu-central-1:abcd-ef' }, sha)).toBe('eu-central-1_abcd-ef');
    const arn = 'arn:aws:sts::111111111111:assumed-role/app/session';
    expect(callerKeySegment({ userArn: arn }, sha)).toBe(`iam-${sha(arn).slice(0, 32)}`);
    expect(callerKeySegment({}, sha)).toBeUndefined();
  });

  test('an unusable claim falls through to the next one', () => {
    const arn = 'arn:aws:iam::111111111111:user/alice';
    expect(callerKeySegment({ cognitoSub: '../x', cognitoIdentityId: 'eu-west-1:ab', userArn: arn }, sha)).toBe('eu-west-1_ab');
    expect(callerKeySegment({ cognitoSub: '', cognitoIdentityId: 'eu-west-1/ab', userArn: arn }, sha)).toBe(`iam-${sha(arn).slice(0, 32)}`);
    expect(callerKeySegment({ userArn: 'not-an-arn' }, sha)).toBeUndefined();
  });

  // Found by the fuzz property below (seed 1297433137, path "1323:0:16:13:15:13:14:14"): the
  // identity id's region part could start with '-', and the segment with it.
  test('refuses an identity id whose segment would start with "-" (the counterexample {"cognitoIdentityId":"-:0"})', () => {
    expect(callerKeySegment({ cognitoIdentityId: '-:0' }, sha)).toBeUndefined();
    expect(callerKeySegment({ cognitoIdentityId: '-eu-west-1:abc' }, sha)).toBeUndefined();
  });

  test('never a segment that starts with "-" or "."', () => {
    for (const claim of ['-', '-a', '.', '.a', '..', '-x:y', '.x:y']) {
      expect(callerKeySegment({ cognitoSub: claim }, sha)).toBeUndefined();
      expect(callerKeySegment({ cognitoIdentityId: claim }, sha)).toBeUndefined();
    }
  });

  test('fuzz: never yields a segment that escapes its folder', () => {
    // Claims built from the characters that matter (separators, dots, dashes) as well as any string.
    const claim = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom('-', '.', ':', '_', '/', 'a', '0', 'Z') }),
      fc.tuple(fc.string({ unit: fc.constantFrom('-', '.', 'a', '0'), maxLength: 4 }), fc.string({ unit: fc.constantFrom('-', '.', 'a', '0'), maxLength: 4 }))
        .map(([region, id]) => `${region}:${id}`),
    );
    const callers = fc.record({ cognitoSub: claim, cognitoIdentityId: claim, userArn: fc.string() }, { requiredKeys: [] });
    console.log(`callerKeySegment fuzz: fast-check seed ${SEED} (replay with FC_SEED=${SEED})`);
    fc.assert(fc.property(callers, (caller) => {
      const segment = callerKeySegment(caller, sha);
      if (segment !== undefined) {
        expect(segment).toMatch(SAFE_SEGMENT);
        expect(segment).not.toContain('..');
      }
    }), { numRuns: 2000, seed: SEED });
  });

  test('the original fuzz property, replayed at the seed that found "-:0"', () => {
    const callers = fc.record({ cognitoSub: fc.string(), cognitoIdentityId: fc.string(), userArn: fc.string() }, { requiredKeys: [] });
    fc.assert(fc.property(callers, (caller) => {
      const segment = callerKeySegment(caller, sha);
      if (segment !== undefined) expect(segment).toMatch(SAFE_SEGMENT);
    }), { numRuns: 2000, seed: 1297433137 });
  });
});
