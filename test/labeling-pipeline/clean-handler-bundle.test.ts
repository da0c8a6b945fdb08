import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { record } from './hearing';
import { CONFIG_FILE, DETAIL_TYPE, ENV, KEYS } from '../../src/labeling-pipeline/runtime/contract';
import { expectAssetLoads } from '../support/assets';
import { useLocalAws } from '../support/local-aws';
import {
  createKeys, createWorld, drainEvents, getText, objectCreated, pipelineConfig, sourceItemOf, sqsEvent, sqsRecord, upload, World,
} from './support/clean-world';

/**
 * The cleaning handler as deployed: the esbuild bundle (`npx projen bundle`), configured only
 * through the environment the construct sets and the staged pipeline configuration
 * (PIPELINE_CONFIG_FILE points at a copy in a temporary directory), its SDK clients built from the
 * environment (AWS_ENDPOINT_URL → moto).
 */
const ASSET_DIR = path.join(__dirname, '..', '..', 'assets', 'labeling-pipeline', 'runtime', 'clean.handler');
const aws = useLocalAws({ setEnv: true });
let world: World;
let tmp: string;
let handlerEnv: Record<string, string>;
let handler: (event: unknown) => Promise<any>;

beforeAll(async () => {
  world = await createWorld(aws(), await createKeys(aws()));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'clean-handler-'));
  const configFile = path.join(tmp, CONFIG_FILE);
  fs.writeFileSync(configFile, JSON.stringify(pipelineConfig()));
  handlerEnv = {
    ...Object.fromEntries(Object.entries(world.env).map(([k, v]) => [ENV[k as keyof typeof ENV], v])),
    PIPELINE_CONFIG_FILE: configFile,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  };
  Object.assign(process.env, handlerEnv);
  if (!fs.existsSync(path.join(ASSET_DIR, 'index.js'))) throw new Error(`no bundle in ${ASSET_DIR}: run \`npx projen bundle\` first`);
  // Loaded as Lambda loads it, after its environment is set (clients and config at module scope).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = require(path.join(ASSET_DIR, 'index.js')).handler;
});

afterAll(() => {
  for (const k of Object.keys(handlerEnv ?? {})) delete process.env[k];
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/**
 * Ajv's runtime helpers carry their standalone-code form as strings (`equal.code =
 * 'require("ajv/dist/runtime/equal").default'`), which the static scan reads as requires. They are
 * bundled, never required: the fresh process cannot resolve ajv, and loading the module compiles
 * the hearing schema (with formats) at module scope.
 */
const AJV_CODEGEN_STRINGS = /^ajv(-formats)?\/dist\//;

test('the bundle loads in a fresh Node process with only the runtime\'s SDK clients external', () => {
  const result = expectAssetLoads(ASSET_DIR, { env: handlerEnv, allowedExternals: [/^@aws-sdk\//, AJV_CODEGEN_STRINGS] });
  expect(result.externals.filter((id) => !AJV_CODEGEN_STRINGS.test(id)))
    .toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/client-eventbridge', '@aws-sdk/client-kms', '@aws-sdk/client-s3']);
  expect(result.bytes).toBeLessThan(1_000_000);
});

test('the bundle fails at load when a variable the construct sets is missing', () => {
  const { LEDGER_TABLE: _omitted, ...rest } = handlerEnv;
  expect(() => expectAssetLoads(ASSET_DIR, { env: rest, allowedExternals: [/^@aws-sdk\//, AJV_CODEGEN_STRINGS] })).toThrow('missing environment variable(s): LEDGER_TABLE (set by the LabelingPipeline construct)');
});

test('one SQS event through the bundled handler: cleaned, indexed, announced, logged as JSON with EMF metrics', async () => {
  const u = await upload(world, record('valid-formats-example.json'));
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  let res: any;
  try {
    res = await handler(sqsEvent([sqsRecord(objectCreated(world.env.RAW_BUCKET, u))]));
  } finally {
    spy.mockRestore();
  }
  expect(res).toEqual({ batchItemFailures: [] });
  const item = await sourceItemOf(world, u);
  expect(item).toEqual(expect.objectContaining({ outcome: 'clean', announced: true, source: u.uri, sourceVersionId: u.versionId }));
  const clean = JSON.parse(await getText(world.c.s3, world.env.CLEAN_BUCKET, KEYS.cleanRecord(world.env.ZONE_PREFIX, item!.recordId)));
  expect(clean.patientId).toMatch(/^hmac:[0-9a-f]{64}$/);
  expect((await drainEvents(world)).map((e) => [e.detailType, e.detail.recordId])).toEqual([[DETAIL_TYPE.recordCleaned, item!.recordId]]);
  const json = lines.map((l) => JSON.parse(l));
  expect(json.find((l) => l.message === 'source processed')).toEqual(expect.objectContaining({ level: 'INFO', service: 'hearing', outcome: 'clean', recordId: item!.recordId }));
  expect(json.find((l) => l._aws)).toEqual(expect.objectContaining({ service: 'hearing', RecordsReceived: 1, RecordsClean: 1 }));
  expect(lines.join('\n')).not.toContain('P-0042-AB');

  // the same object through the backfill entry (same config version): already placed
  const quiet = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const backfill = await handler({ Items: [{ Key: u.key }], BatchInput: { bucket: world.env.RAW_BUCKET } }).finally(() => quiet.mockRestore());
  expect(backfill).toEqual({ received: 1, clean: 0, duplicate: 0, quarantine: 0, skipped: 1 });
  await expect(handler({ hello: 'world' })).rejects.toThrow('unsupported event: expected an SQS batch (Records) or a backfill batch (Items, BatchInput.bucket)');
});
