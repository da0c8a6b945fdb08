import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as fc from 'fast-check';
import { fromAttributeValue, fromItem, toAttributeValue, toItem } from '../../src/private/runtime/dynamodb-codec';

/** The seed of this file's properties: FC_SEED when set, else a fresh one (printed, to replay a failure). */
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const RUNS = { numRuns: 1000, seed: SEED };

/** Keys that an assignment would misread (`__proto__`) or that shadow Object.prototype members. */
const key = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'));

/** An object with exactly these own keys (defined, so `__proto__` is data); the last duplicate wins. */
function objectOf<T>(entries: ReadonlyArray<readonly [string, T]>): Record<string, T> {
  const o: Record<string, T> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** JSON values (finite numbers; -0 is 0, as JSON and DynamoDB have it) with hostile keys. */
const json = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.string(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.integer(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(objectOf),
  ),
})).value;

const bytes = fc.uint8Array({ maxLength: 16 });

/** Any attribute value DynamoDB returns (every type, binary included), with hostile map keys. */
const attributeValue = fc.letrec<{ av: AttributeValue }>((tie) => ({
  av: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string().map((S): AttributeValue => ({ S })),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n): AttributeValue => ({ N: String(n) })),
    fc.boolean().map((BOOL): AttributeValue => ({ BOOL })),
    fc.constant<AttributeValue>({ NULL: true }),
    fc.array(fc.string(), { minLength: 1, maxLength: 3 }).map((SS): AttributeValue => ({ SS })),
    fc.array(fc.integer(), { minLength: 1, maxLength: 3 }).map((ns): AttributeValue => ({ NS: ns.map(String) })),
    bytes.map((B): AttributeValue => ({ B })),
    fc.array(bytes, { minLength: 1, maxLength: 3 }).map((BS): AttributeValue => ({ BS })),
    fc.array(tie('av'), { maxLength: 4 }).map((L): AttributeValue => ({ L })),
    fc.array(fc.tuple(key, tie('av')), { maxLength: 4 }).map((entries): AttributeValue => ({ M: objectOf(entries) })),
  ),
})).av;

const item = fc.array(fc.tuple(key, attributeValue), { maxLength: 5 }).map(objectOf);

/** Every object in `v` (arrays included) has the standard prototype and `Object.prototype` is untouched. */
function expectUnpolluted(v: unknown): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_NAMES);
  expect(({} as Record<string, unknown>).S).toBeUndefined();
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) {
      expect(Object.getPrototypeOf(x)).toBe(Array.prototype);
      x.forEach(walk);
    } else if (typeof x === 'object' && x !== null) {
      expect(Object.getPrototypeOf(x)).toBe(Object.prototype);
      Object.values(x).forEach(walk);
    }
  };
  walk(v);
}
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(() => {
  console.log(`dynamodb-codec properties: fast-check seed ${SEED} (replay with FC_SEED=${SEED})`);
});

describe('encoding (JSON → attribute values)', () => {
  test('each JSON type has its attribute type; undefined members are left out', () => {
    expect(toAttributeValue(null)).toEqual({ NULL: true });
    expect(toAttributeValue('x')).toEqual({ S: 'x' });
    expect(toAttributeValue(true)).toEqual({ BOOL: true });
    expect(toAttributeValue(1.5)).toEqual({ N: '1.5' });
    expect(toAttributeValue(-0)).toEqual({ N: '0' });
    expect(toAttributeValue([1, 'a'])).toEqual({ L: [{ N: '1' }, { S: 'a' }] });
    expect(toItem({ a: { b: [null] }, gone: undefined })).toEqual({ a: { M: { b: { L: [{ NULL: true }] } } } });
  });

  test('fails if a number is not finite or a value is not JSON', () => {
    expect(() => toAttributeValue(Number.NaN)).toThrow('ledger: a number to store is not finite');
    expect(() => toAttributeValue(Infinity)).toThrow('ledger: a number to store is not finite');
    expect(() => toAttributeValue(undefined)).toThrow('ledger: cannot store a value of type undefined');
    expect(() => toAttributeValue(BigInt(1))).toThrow('ledger: cannot store a value of type bigint');
    expect(() => toAttributeValue(() => 1)).toThrow('ledger: cannot store a value of type function');
  });

  test('a `__proto__` member is encoded as an attribute, not as the item\'s prototype', () => {
    const o = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const encoded = toItem(o);
    expect(Object.getPrototypeOf(encoded)).toBe(Object.prototype);
    expect(Object.keys(encoded)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(encoded, '__proto__')?.value).toEqual({ M: { polluted: { BOOL: true } } });
    expect((encoded as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('decoding (attribute values → JSON)', () => {
  test('attribute values decode to plain JSON (maps, lists, sets, numbers)', () => {
    expect(fromAttributeValue({ M: { a: { N: '1.5' }, b: { L: [{ BOOL: true }, { NULL: true }, { S: 'x' }] }, c: { SS: ['p'] }, d: { NS: ['2'] } } }))
      .toEqual({ a: 1.5, b: [true, null, 'x'], c: ['p'], d: [2] });
  });

  test('binary values decode to base64 text (B a string, BS an array of strings)', () => {
    expect(fromAttributeValue({ B: new Uint8Array([0, 1, 2, 253, 254, 255]) })).toBe('AAEC/f7/');
    expect(fromAttributeValue({ B: new Uint8Array() })).toBe('');
    expect(fromAttributeValue({ BS: [new Uint8Array([104, 105]), new Uint8Array([255])] })).toEqual(['aGk=', '/w==']);
    // A view into a larger buffer: only the view's bytes.
    const view = Buffer.from([9, 9, 104, 105, 9]).subarray(2, 4);
    expect(fromAttributeValue({ B: view })).toBe('aGk=');
  });

  test('an attribute value of no known type decodes to undefined', () => {
    expect(fromAttributeValue({} as AttributeValue)).toBeUndefined();
    expect(fromItem({ a: {} as AttributeValue })).toEqual({ a: undefined });
  });

  test('__proto__ stays data: the item keeps Object.prototype and the key is its own', () => {
    const o = fromItem({ ['__proto__']: { S: 'v' } });
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(o, '__proto__')?.value).toBe('v');
    const nested = fromAttributeValue({ M: objectOf([['__proto__', { M: { polluted: { BOOL: true } } }]]) }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(nested)).toBe(Object.prototype);
    expect(nested.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('properties', () => {
  test('marshall → unmarshall is the identity on JSON values (hostile keys included)', () => {
    fc.assert(fc.property(json, (v) => {
      const back = fromAttributeValue(toAttributeValue(v));
      expect(back).toEqual(v);
      expectUnpolluted(back);
    }), RUNS);
  });

  test('marshall → unmarshall of items keeps exactly the own keys, `__proto__` included', () => {
    fc.assert(fc.property(fc.array(fc.tuple(key, json), { maxLength: 5 }).map(objectOf), (o) => {
      const encoded = toItem(o);
      expect(Object.keys(encoded)).toEqual(Object.keys(o));
      expectUnpolluted(encoded);
      const back = fromItem(encoded);
      expect(Object.keys(back)).toEqual(Object.keys(o));
      expect(back).toEqual(o);
    }), RUNS);
  });

  test('__proto__ keys never pollute: any item decodes to JSON with standard prototypes and its own keys', () => {
    fc.assert(fc.property(item, (i) => {
      const decoded = fromItem(i);
      expect(Object.keys(decoded)).toEqual(Object.keys(i));
      expectUnpolluted(decoded);
      // Always a JSON value (binary as base64 text): JSON text gives it back unchanged.
      expect(JSON.parse(JSON.stringify(decoded))).toEqual(decoded);
    }), RUNS);
  });

  test('unmarshall → marshall gives back every item without binary or sets', () => {
    const plain = (av: AttributeValue): boolean =>
      av.B === undefined && av.BS === undefined && av.SS === undefined && av.NS === undefined
      && (av.L ?? []).every(plain) && Object.values(av.M ?? {}).every(plain);
    fc.assert(fc.property(item.filter((i) => Object.values(i).every(plain)), (i) => {
      // Numbers come back in their shortest form (`1e21`, `0` for `-0`): compare decoded forms.
      expect(fromItem(toItem(fromItem(i)))).toEqual(fromItem(i));
      expect(Object.keys(toItem(fromItem(i)))).toEqual(Object.keys(i));
    }), RUNS);
  });
});
