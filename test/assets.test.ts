import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleExternals, expectAssetLoads } from './support/assets';

/** Writes a fake bundled asset directory with the given index.js. */
function fakeAsset(code: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-asset-'));
  fs.writeFileSync(path.join(dir, 'index.js'), code);
  return dir;
}

describe('expectAssetLoads', () => {
  const dirs: string[] = [];
  const asset = (code: string) => {
    const d = fakeAsset(code);
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  test('a handler that uses the runtime-provided SDK v3 at module scope loads', () => {
    const dir = asset(`
      "use strict";
      const { S3Client } = require("@aws-sdk/client-s3");
      const crypto = require("node:crypto");
      const s3 = new S3Client({});
      exports.handler = async () => ({ region: await s3.config.region(), id: crypto.randomUUID() });
    `);
    const r = expectAssetLoads(dir);
    expect(r.exports).toEqual(['handler']);
    expect(r.externals).toEqual(['@aws-sdk/client-s3']);
  });

  test('module-scope environment can be supplied', () => {
    const dir = asset(`
      if (!process.env.BUCKET_NAME) throw new Error("BUCKET_NAME missing");
      if (process.env.AWS_REGION !== "eu-central-1") throw new Error("AWS_REGION not set");
      exports.handler = async () => process.env.BUCKET_NAME;
    `);
    expect(() => expectAssetLoads(dir)).toThrow(/BUCKET_NAME missing/);
    expect(expectAssetLoads(dir, { env: { BUCKET_NAME: 'b' } }).exports).toEqual(['handler']);
  });

  test('a bundle that left a non-SDK dependency external fails, even one required lazily', () => {
    const dir = asset(`
      exports.handler = async () => require("@aws-lambda-powertools/logger");
    `);
    expect(() => expectAssetLoads(dir)).toThrow(/neither bundled nor provided.*@aws-lambda-powertools\/logger/);
  });

  test('the copy cannot reach the repository node_modules (only @aws-sdk is provided)', () => {
    // fast-check is installed in the repository; Lambda would not have it.
    const dir = asset('require("fast-check"); exports.handler = async () => 1;');
    expect(() => expectAssetLoads(dir, { allowedExternals: [/^fast-check$/] })).toThrow(/Cannot find module 'fast-check'/);
  });

  test('a missing or non-function handler fails', () => {
    expect(() => expectAssetLoads(asset('exports.main = async () => 1;'))).toThrow(/exports handler as undefined/);
    expect(() => expectAssetLoads(path.join(os.tmpdir(), 'no-such-asset-dir'))).toThrow(/npx projen bundle/);
  });
});

test('bundleExternals ignores relative paths and built-ins', () => {
  expect(bundleExternals('require("./x"); require("fs"); require("node:path"); require("fs/promises"); require("@aws-sdk/client-kms");'))
    .toEqual(['@aws-sdk/client-kms']);
});

test('bundleExternals skips the lines that are comments, and only those', () => {
  expect(bundleExternals([
    '/**',
    ' * const AWS = tracer.captureAWS(require(\'aws-sdk\'));',
    ' */',
    '// require("left-pad")',
    '/* require("is-odd") */',
    'const a = require("@aws-sdk/client-s3"); // then require("b")',
    'const x = 2 * require("real-dep").y;',
  ].join('\n'))).toEqual(['@aws-sdk/client-s3', 'b', 'real-dep']);
});
