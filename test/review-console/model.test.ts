import * as fc from 'fast-check';
import type { ReviewListItem } from '../../src/labeling-pipeline/runtime/review-api';
import {
  ageText, classForKey, flatten, groupsOf, isReviewer, jwtClaims, parseConfig, queueOrder, reasonText, ReviewItem,
} from '../../src/review-console/web/model';

/** The console's mirror of the review API's list item accepts what the API returns (type-checked by tsc -p test). */
const fromApi = (item: ReviewListItem): ReviewItem => item;

const CONFIG = {
  apiUrl: 'https://api.example.com/prod/',
  auth: { domain: 'https://review.auth.eu-central-1.amazoncognito.com/', clientId: 'abc123', redirectUri: 'https://d111.cloudfront.net/' },
  classes: ['normal', 'mild'],
};
const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('parseConfig', () => {
  test('fills the defaults and trims trailing slashes', () => {
    expect(parseConfig(CONFIG)).toEqual({
      apiUrl: 'https://api.example.com/prod',
      auth: {
        domain: 'https://review.auth.eu-central-1.amazoncognito.com',
        clientId: 'abc123',
        redirectUri: 'https://d111.cloudfront.net/',
        reviewerGroup: 'reviewers',
        scopes: ['openid', 'email'],
      },
      classes: ['normal', 'mild'],
      title: 'Review console',
      views: [],
    });
  });

  test.each([
    ['not an object', [], /must be a JSON object/],
    ['no apiUrl', { ...CONFIG, apiUrl: undefined }, /apiUrl must be an http\(s\) URL/],
    ['a javascript: apiUrl', { ...CONFIG, apiUrl: 'javascript:alert(1)' }, /apiUrl/],
    ['no client id', { ...CONFIG, auth: { ...CONFIG.auth, clientId: '' } }, /auth.clientId/],
    ['no classes', { ...CONFIG, classes: [] }, /classes must be a non-empty array/],
    ['repeated classes', { ...CONFIG, classes: ['a', 'a'] }, /must not repeat/],
    ['a view on another origin', { ...CONFIG, views: [{ name: 'x', module: 'https://cdn.example.com/x.js' }] }, /relative path/],
    ['a protocol-relative view', { ...CONFIG, views: [{ name: 'x', module: '//cdn.example.com/x.js' }] }, /relative path/],
    ['a data: view', { ...CONFIG, views: [{ name: 'x', module: 'data:text/javascript,alert(1)//.js' }] }, /relative path/],
    ['a view without a name', { ...CONFIG, views: [{ module: 'views/x.js' }] }, /name and a module/],
  ])('fails if %s', (_, value, message) => {
    expect(() => parseConfig(value)).toThrow(message);
  });

  test('any JSON value: a config or an Error that starts with "config.json:"', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      try {
        parseConfig(v);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message).toMatch(/^config\.json: /);
      }
    }));
  });
});

describe('claims', () => {
  test('groups from the ID token (an array) and as API Gateway passes them on (a string)', () => {
    expect(groupsOf({ 'cognito:groups': ['reviewers', 'admins'] })).toEqual(['reviewers', 'admins']);
    expect(groupsOf({ 'cognito:groups': 'reviewers,admins' })).toEqual(['reviewers', 'admins']);
    expect(groupsOf({ 'cognito:groups': '[reviewers admins]' })).toEqual(['reviewers', 'admins']);
    expect(groupsOf({})).toEqual([]);
    expect(isReviewer({ 'cognito:groups': ['reviewers-old'] }, 'reviewers')).toBe(false);
    expect(isReviewer({ 'cognito:groups': ['reviewers'] }, 'reviewers')).toBe(true);
  });

  test('jwtClaims decodes the payload (UTF-8), and refuses what is not a JWT', () => {
    expect(jwtClaims(jwt({ 'sub': 's', 'name': 'Zoë', 'cognito:groups': ['reviewers'] }))).toEqual({ 'sub': 's', 'name': 'Zoë', 'cognito:groups': ['reviewers'] });
    expect(() => jwtClaims('abc')).toThrow(/not a JWT/);
    expect(() => jwtClaims(`a.${Buffer.from('[1]').toString('base64url')}.c`)).toThrow(/not an object/);
  });
});

describe('what the screens show', () => {
  test('keys 1..9 choose the first nine classes, nothing else does', () => {
    const classes = ['a', 'b', 'c'];
    expect(classForKey('1', classes)).toBe('a');
    expect(classForKey('3', classes)).toBe('c');
    for (const k of ['0', '4', '9', '10', 's', 'Enter', '']) expect(classForKey(k, classes)).toBeUndefined();
  });

  test('ages and reasons', () => {
    const now = Date.parse('2026-03-02T12:00:00Z');
    expect(ageText('2026-03-02T11:59:30Z', now)).toBe('just now');
    expect(ageText('2026-03-02T11:15:00Z', now)).toBe('45 min');
    expect(ageText('2026-03-02T07:00:00Z', now)).toBe('5 h');
    expect(ageText('2026-02-27T12:00:00Z', now)).toBe('3 d');
    expect(ageText('yesterday', now)).toBe('unknown');
    expect(reasonText('quality-sample')).toBe('Quality sample');
    expect(reasonText('low-confidence')).toBe('Low confidence');
    expect(reasonText('disagreement')).toBe('Labelers disagree');
  });

  test('the queue is oldest first', () => {
    const item = (recordId: string, requestedAt: string) => fromApi({ recordId, requestedAt, reasons: [], votes: [], attempt: 1, record: {} });
    expect(queueOrder([item('b', '2026-03-02'), item('c', '2026-03-01'), item('a', '2026-03-02')]).map((i) => i.recordId)).toEqual(['c', 'a', 'b']);
  });

  test('the generic view: dotted paths, pseudonyms hidden, bounded', () => {
    const rows = flatten({ patientId: 'hmac:0123456789abcdef', age: 67, thresholds: { left: { 500: 20 } }, tags: ['x'], none: null, empty: {} });
    expect(rows).toEqual([
      { path: 'patientId', value: '(pseudonym, hidden)' },
      { path: 'age', value: '67' },
      { path: 'thresholds.left.500', value: '20' },
      { path: 'tags[0]', value: 'x' },
      { path: 'none', value: 'null' },
      { path: 'empty', value: '{}' },
    ]);
    expect(rows.map((r) => r.value).join(' ')).not.toContain('hmac:');
    const big = flatten({ list: Array.from({ length: 20 }, (_, i) => i) }, 5);
    expect(big).toHaveLength(6);
    expect(big[5]).toEqual({ path: '…', value: '15 more value(s) not shown' });
  });

  test('flatten never shows a pseudonym, whatever the record', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.stringMatching(/^[0-9a-f]{16,64}$/), (v, hex) => {
      const rows = flatten({ v, subject: `hmac:${hex}`, nested: [{ id: `hmac:${hex}` }] });
      expect(JSON.stringify(rows)).not.toContain(`hmac:${hex}`);
    }));
  });
});
