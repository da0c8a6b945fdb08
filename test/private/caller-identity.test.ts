import { createHmac } from 'node:crypto';
import * as fc from 'fast-check';
import {
  callerIdentity, CallerIdentity, callerMacMessage, callerPseudonyms, pseudonymSegment,
} from '../../src/private/runtime/caller-identity';

/** HMAC-SHA-256 with a test key (KMS GenerateMac in the handlers). */
const hmac = (message: Uint8Array) => Promise.resolve(new Uint8Array(createHmac('sha256', 'test-key').update(message).digest()));

/** What a caller segment may be: one folder name that no path or option parser misreads. */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * The caller's key segment was once the raw claim (`callerKeySegment`); it is now always the
 * keyed pseudonym of `callerIdentity` (32 hex digits), so no claim can shape it.
 */
describe('caller key segments (issue 11, item 7: they never escape their folder)', () => {
  const segmentOf = async (caller: Parameters<typeof callerIdentity>[0]) => {
    const identity = callerIdentity(caller);
    return identity ? callerPseudonyms(hmac)(identity) : undefined;
  };

  // Found by the fuzz property below (seed 1297433137, path "1323:0:16:13:15:13:14:14"): the
  // identity id's region part could start with '-', and the segment with it.
  test('refuses an identity id whose region starts with "-" (the counterexample {"cognitoIdentityId":"-:0"})', () => {
    expect(callerIdentity({ cognitoIdentityId: '-:0' })).toBeUndefined();
    expect(callerIdentity({ cognitoIdentityId: '-eu-west-1:abc' })).toBeUndefined();
  });

  test('claims of dots and dashes are no identity', () => {
    for (const claim of ['-', '-a', '.', '.a', '..', '-x:y', '.x:y']) {
      expect(callerIdentity({ cognitoSub: claim })).toBeUndefined();
      expect(callerIdentity({ cognitoIdentityId: claim })).toBeUndefined();
    }
  });

  test('fuzz: never yields a segment that escapes its folder, and never one that shows the claim', async () => {
    // Claims built from the characters that matter (separators, dots, dashes) as well as any string.
    const claim = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom('-', '.', ':', '_', '/', 'a', '0', 'Z') }),
      fc.tuple(fc.string({ unit: fc.constantFrom('-', '.', 'a', '0'), maxLength: 4 }), fc.string({ unit: fc.constantFrom('-', '.', 'a', '0'), maxLength: 4 }))
        .map(([region, id]) => `${region}:${id}`),
    );
    const callers = fc.record({ cognitoSub: claim, cognitoIdentityId: claim, principalId: claim, userArn: fc.string() }, { requiredKeys: [] });
    await fc.assert(fc.asyncProperty(callers, async (caller) => {
      const segment = await segmentOf(caller);
      if (segment !== undefined) {
        expect(segment).toMatch(/^[0-9a-f]{32}$/);
        expect(segment).toMatch(SAFE_SEGMENT);
      }
    }), { numRuns: 2000 });
  });

  test('the original fuzz property, replayed at the seed that found "-:0"', async () => {
    const callers = fc.record({ cognitoSub: fc.string(), cognitoIdentityId: fc.string(), userArn: fc.string() }, { requiredKeys: [] });
    await fc.assert(fc.asyncProperty(callers, async (caller) => {
      const segment = await segmentOf(caller);
      if (segment !== undefined) expect(segment).toMatch(SAFE_SEGMENT);
    }), { numRuns: 2000, seed: 1297433137 });
  });
});


describe('callerIdentity', () => {
  test('the Cognito sub, then the identity id, then the IAM principal without its session name', () => {
    expect(callerIdentity({ cognitoSub: '7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1', principalId: 'AROAEXAMPLEROLEID12:s' }))
      .toEqual({ kind: 'cognito-sub', value: '7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1' });
    // identity-pool callers share the pool's role: the identity id tells them apart
    expect(callerIdentity({ cognitoIdentityId: 'eu-central-1:abcd-ef', principalId: 'AROAEXAMPLEROLEID12:CognitoIdentityCredentials' }))
      .toEqual({ kind: 'cognito-identity', value: 'eu-central-1:abcd-ef' });
    expect(callerIdentity({ principalId: 'AROAEXAMPLEROLEID12:alice', userArn: 'arn:aws:sts::111111111111:assumed-role/app/alice' }))
      .toEqual({ kind: 'iam-principal', value: 'AROAEXAMPLEROLEID12' });
    expect(callerIdentity({ principalId: 'AIDAEXAMPLEUSERID34' })).toEqual({ kind: 'iam-principal', value: 'AIDAEXAMPLEUSERID34' });
    expect(callerIdentity({})).toBeUndefined();
  });

  test('IAM callers are keyed on what they cannot choose: every session name of a role is one caller', () => {
    const sessions = ['alice', 'bob', 'admin', '7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1'];
    const byPrincipal = sessions.map((s) => callerIdentity({ principalId: `AROAEXAMPLEROLEID12:${s}` }));
    expect(new Set(byPrincipal.map((i) => JSON.stringify(i))).size).toBe(1);
    const byArn = sessions.map((s) => callerIdentity({ userArn: `arn:aws:sts::111111111111:assumed-role/app/${s}` }));
    expect(byArn.every((i) => JSON.stringify(i) === JSON.stringify({ kind: 'iam-role', value: 'arn:aws:sts::111111111111:assumed-role/app' }))).toBe(true);
    for (const i of [...byPrincipal, ...byArn]) for (const s of sessions) expect(i!.value).not.toContain(s);
    expect(callerIdentity({ userArn: 'arn:aws:iam::111111111111:user/alice' })).toEqual({ kind: 'iam-arn', value: 'arn:aws:iam::111111111111:user/alice' });
  });

  test('claims without their documented shape are ignored', () => {
    expect(callerIdentity({ cognitoSub: '../x', cognitoIdentityId: 'eu-west-1:ab' })).toEqual({ kind: 'cognito-identity', value: 'eu-west-1:ab' });
    expect(callerIdentity({ cognitoSub: '', cognitoIdentityId: 'eu-west-1/ab', principalId: 'lowercase:x', userArn: 'not-an-arn' })).toBeUndefined();
    expect(callerIdentity({ cognitoSub: 42 as any, principalId: {} as any })).toBeUndefined();
  });
});

describe('caller pseudonyms', () => {
  const sub: CallerIdentity = { kind: 'cognito-sub', value: '7b0c1f9e-3d0a-4a51-9a0e-52f7f3a0c2d1' };

  test('a pseudonym is 32 lowercase hex digits of the keyed MAC, and never the identity', async () => {
    const segment = await callerPseudonyms(hmac)(sub);
    expect(segment).toMatch(/^[0-9a-f]{32}$/);
    expect(segment).toBe(createHmac('sha256', 'test-key').update(callerMacMessage(sub)).digest('hex').slice(0, 32));
    expect(segment).not.toContain(sub.value.slice(0, 8));
    expect(() => pseudonymSegment(new Uint8Array(8))).toThrow('a MAC of at least 16 bytes is required');
  });

  test('the MAC message is never UTF-8 text, so no record identifier the cleaning handler MACs can give a caller\'s pseudonym', () => {
    const message = callerMacMessage(sub);
    expect(message[0]).toBe(0xfe);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(message)).toThrow();
  });

  test('kinds are kept apart: the same value of two kinds gives two pseudonyms', async () => {
    const p = callerPseudonyms(hmac);
    const a = await p({ kind: 'cognito-sub', value: 'AROAEXAMPLEROLEID12' });
    const b = await p({ kind: 'iam-principal', value: 'AROAEXAMPLEROLEID12' });
    expect(a).not.toBe(b);
  });

  test('cached per execution environment (least recently used): one MAC call per caller, concurrent requests share it', async () => {
    let calls = 0;
    const p = callerPseudonyms(async (m) => {
      calls++;
      return hmac(m);
    }, 2);
    const [x, y] = await Promise.all([p(sub), p(sub)]);
    expect([x === y, calls]).toEqual([true, 1]);
    const other = (value: string): CallerIdentity => ({ kind: 'cognito-sub', value });
    await p(other('b'));
    await p(sub); // sub is now the most recently used
    await p(other('c')); // evicts b
    expect([calls, p.size]).toEqual([3, 2]);
    await p(sub);
    expect(calls).toBe(3);
    await p(other('b'));
    expect(calls).toBe(4);
  });

  test('a failed MAC call is not cached: the next request tries again', async () => {
    let fail = true;
    const p = callerPseudonyms(async (m) => {
      if (fail) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      return hmac(m);
    });
    await expect(p(sub)).rejects.toThrow('throttled');
    expect(p.size).toBe(0);
    fail = false;
    await expect(p(sub)).resolves.toMatch(/^[0-9a-f]{32}$/);
  });

  test('fuzz: distinct identities give distinct messages, and every pseudonym is a safe segment', async () => {
    const identity = fc.record({
      kind: fc.constantFrom<CallerIdentity['kind']>('cognito-sub', 'cognito-identity', 'iam-principal', 'iam-role', 'iam-arn'),
      value: fc.string({ minLength: 1, maxLength: 40 }).filter((v) => !v.includes('\0')),
    });
    await fc.assert(fc.asyncProperty(identity, identity, async (a, b) => {
      const [ma, mb] = [Buffer.from(callerMacMessage(a)), Buffer.from(callerMacMessage(b))];
      expect(ma.equals(mb)).toBe(a.kind === b.kind && a.value === b.value);
      expect(await callerPseudonyms(hmac)(a)).toMatch(SAFE_SEGMENT);
    }), { numRuns: 500 });
  });
});
