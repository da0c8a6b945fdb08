/**
 * Every event builder's output against the vendored OpenLineage 2-0-2 JSON Schema and the custom
 * facets' schema (Ajv 2020-12): fixed examples, then properties over random inputs. Plus the
 * UUID v7 helpers, the refusals of bad input, and the DataZone request shape.
 */
import fc from 'fast-check';
import { runEventErrors, expectValidRunEvent, validators } from './openlineage-schema';
import {
  LINEAGE_FACETS, LINEAGE_KEYS, LineageSourceRecord, MAX_INLINE_SOURCE_RECORDS, OPENLINEAGE_RUN_EVENT_SCHEMA_URL,
} from '../../src/contract/lineage';
import { postLineageEventRequest, sendLineageEvents } from '../../src/lineage/runtime/datazone';
import {
  datasetBuildEvent, LineageInputError, promotionEvent, recordsJsonLines, trainingEvent, uuidV7, uuidV7Time,
} from '../../src/lineage/runtime/events';

const T = Date.UTC(2026, 11, 4, 21, 59, 4, 123);
const SHA = 'a'.repeat(64);
const rec = (i: number): LineageSourceRecord => ({
  recordId: `rec-${String(i).padStart(5, '0')}`,
  subject: `hmac:${i % 7}`,
  cleanRef: `s3://clean/hearing/records/rec-${i}.json`,
  source: `s3://raw/uploads/c/${i}.json`,
  sourceVersionId: `v${i}`,
});
const build = (records: LineageSourceRecord[], extra: Partial<Parameters<typeof datasetBuildEvent>[0]> = {}) => datasetBuildEvent({
  pipeline: 'hearing',
  datasetVersion: 'v1',
  eventTime: T,
  curatedBucket: 'curated',
  datasetPrefix: 'hearing/datasets/v1/',
  cleanBucket: 'clean',
  cleanPrefix: 'hearing/records/',
  records,
  published: true,
  counts: { total: records.length },
  ...extra,
}, LINEAGE_KEYS.records);

describe('the schema catches what it should (the validator can fail)', () => {
  test('an event without run, a bad runId, a facet without _producer, a custom facet missing a field', () => {
    const good = build([rec(1)]).event;
    expectValidRunEvent(good);
    expect(runEventErrors({ ...good, run: undefined })).not.toEqual([]);
    expect(runEventErrors({ ...good, run: { runId: 'not-a-uuid' } })).not.toEqual([]);
    expect(runEventErrors({ ...good, eventTime: 'yesterday' })).not.toEqual([]);
    expect(runEventErrors({ ...good, producer: 'not a uri' })).not.toEqual([]);
    const noProducer = JSON.parse(JSON.stringify(good));
    delete noProducer.inputs[0].inputFacets[LINEAGE_FACETS.sourceRecords]._producer;
    expect(runEventErrors(noProducer).join()).toMatch(/_producer/);
    const noCount = JSON.parse(JSON.stringify(good));
    delete noCount.inputs[0].inputFacets[LINEAGE_FACETS.sourceRecords].recordCount;
    expect(runEventErrors(noCount).join()).toMatch(/recordCount/);
    expect(validators.runEvent.schema).toBeDefined();
  });
});

describe('dataset build', () => {
  test('records inline (sorted), the version as output, COMPLETE, schemaURL 2-0-2', () => {
    const { event, records, recordsObject } = build([rec(3), rec(1), rec(2)]);
    expectValidRunEvent(event);
    expect(event).toMatchObject({
      eventType: 'COMPLETE',
      eventTime: new Date(T).toISOString(),
      schemaURL: OPENLINEAGE_RUN_EVENT_SCHEMA_URL,
      job: { namespace: 'cdk-secure-mlops', name: 'labeling-pipeline.hearing.dataset-version' },
      inputs: [{ namespace: 's3://clean', name: 'hearing/records' }],
      outputs: [{ namespace: 's3://curated', name: 'hearing/datasets/v1' }],
    });
    expect(records.map((r) => r.recordId)).toEqual(['rec-00001', 'rec-00002', 'rec-00003']);
    expect(event.inputs[0].inputFacets![LINEAGE_FACETS.sourceRecords].records).toEqual(records);
    expect(recordsObject).toBeUndefined();
    expect(uuidV7Time(event.run.runId)).toBe(T);
  });

  test('over MAX_INLINE_SOURCE_RECORDS the records go to a records object the facet names (event stays small)', () => {
    const many = Array.from({ length: MAX_INLINE_SOURCE_RECORDS + 1 }, (_, i) => rec(i));
    const { event, recordsObject } = build(many);
    expectValidRunEvent(event);
    const facet = event.inputs[0].inputFacets![LINEAGE_FACETS.sourceRecords];
    expect(facet.records).toBeUndefined();
    expect(facet.recordsKey).toBe(LINEAGE_KEYS.records(event.run.runId));
    expect(recordsObject!.body.trim().split('\n')).toHaveLength(many.length);
    expect(JSON.stringify(event).length).toBeLessThan(2000);
  });

  test('the same build gives the same run id (idempotent retries); another version another', () => {
    expect(build([rec(1)]).event.run.runId).toBe(build([rec(1)]).event.run.runId);
    expect(build([rec(1)]).event.run.runId).not.toBe(build([rec(1)], { datasetPrefix: 'hearing/datasets/v2/' }).event.run.runId);
  });

  test('a blocked version is COMPLETE with published false and its reasons; a failure is FAIL without output', () => {
    const blocked = build([rec(1)], { published: false, blockedReasons: ['minRecords: 1 is below the limit 20'] }).event;
    expectValidRunEvent(blocked);
    expect(blocked.outputs[0].outputFacets![LINEAGE_FACETS.datasetVersion]).toMatchObject({ published: false, blockedReasons: ['minRecords: 1 is below the limit 20'] });
    const failed = build([rec(1)], { error: 'DatasetVersionExists' }).event;
    expectValidRunEvent(failed);
    expect(failed).toMatchObject({ eventType: 'FAIL', outputs: [], run: { facets: { [LINEAGE_FACETS.failure]: { error: 'DatasetVersionExists' } } } });
  });

  test('refuses duplicate or empty record ids and empty names, naming the field', () => {
    expect(() => build([rec(1), rec(1)])).toThrow(/appears twice/);
    expect(() => build([{ ...rec(1), recordId: '' }])).toThrow(LineageInputError);
    expect(() => build([rec(1)], { pipeline: '' })).toThrow(/pipeline/);
    expect(() => build([rec(1)], { runId: 'run-1' })).toThrow(/runId must be a UUID/);
    expect(() => build([rec(1)], { eventTime: NaN })).toThrow(/eventTime/);
  });

  test('property: any records, names, gates and times give a valid event whose records are the input\'s', () => {
    const record = fc.record({
      recordId: fc.string({ minLength: 1, maxLength: 40 }),
      subject: fc.string({ maxLength: 40 }),
      cleanRef: fc.option(fc.string(), { nil: undefined }),
      source: fc.option(fc.string(), { nil: undefined }),
      sourceVersionId: fc.option(fc.string(), { nil: undefined }),
    }, { requiredKeys: ['recordId', 'subject'] });
    fc.assert(fc.property(
      fc.uniqueArray(record, { selector: (r) => r.recordId, maxLength: 40 }),
      fc.string({ minLength: 1, maxLength: 30 }),
      fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
      fc.boolean(),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.integer({ min: 0, max: 2 ** 47 }),
      fc.option(fc.constantFrom('InternalError', 'Throttling'), { nil: undefined }),
      (records, pipeline, version, published, blockedReasons, time, error) => {
        const { event, records: out } = datasetBuildEvent({
          pipeline,
          datasetVersion: version,
          eventTime: time,
          curatedBucket: 'curated',
          datasetPrefix: `p/datasets/${version}/`,
          cleanBucket: 'clean',
          cleanPrefix: 'p/records/',
          records,
          published,
          blockedReasons,
          ...(error ? { error } : {}),
        }, LINEAGE_KEYS.records);
        expect(runEventErrors(event)).toEqual([]);
        expect(out.map((r) => r.recordId).sort()).toEqual(records.map((r) => r.recordId).sort());
        expect(uuidV7Time(event.run.runId)).toBe(time);
      },
    ));
  });
});

describe('training', () => {
  const input = {
    model: 'hearing-grade',
    trainingJobName: 'hearing-grade-20261204',
    datasetVersion: 'v1',
    eventTime: T,
    datasetLocation: 's3://curated/hearing/datasets/v1/',
    output: { bucket: 'models', key: 'hearing-grade/models/hearing-grade-20261204/model.onnx', sha256: SHA, modelPackageArn: 'arn:aws:sagemaker:eu-central-1:111122223333:model-package/hearing-grade/1' },
  };
  test('dataset version in, model bytes out, with sha256; the input names the same dataset as the build output', () => {
    const e = trainingEvent(input);
    expectValidRunEvent(e);
    expect(e.inputs).toEqual([{ namespace: 's3://curated', name: 'hearing/datasets/v1' }]);
    expect(e.inputs[0]).toMatchObject({ namespace: build([rec(1)]).event.outputs[0].namespace, name: build([rec(1)]).event.outputs[0].name });
    expect(e.outputs[0]).toMatchObject({ namespace: 's3://models', name: input.output.key, outputFacets: { [LINEAGE_FACETS.modelVersion]: { sha256: SHA, model: 'hearing-grade' } } });
  });
  test('FAIL needs no output; COMPLETE does; a bad sha or location is refused', () => {
    const { output, ...noOutput } = input;
    expectValidRunEvent(trainingEvent({ ...noOutput, error: 'TrainingFailed' }));
    expect(() => trainingEvent(noOutput)).toThrow(/needs output/);
    expect(() => trainingEvent({ ...input, output: { ...output, sha256: 'ABC' } })).toThrow(/sha256/);
    expect(() => trainingEvent({ ...input, datasetLocation: 'curated/hearing' })).toThrow(/s3:\/\//);
  });
  test('property: valid for any names, versions and hashes', () => {
    fc.assert(fc.property(
      fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.stringMatching(/^[0-9a-f]{64}$/),
      fc.option(fc.string({ minLength: 1 }), { nil: undefined }), fc.integer({ min: 0, max: 2 ** 47 }),
      (model, job, version, sha, modelVersion, time) => {
        const e = trainingEvent({
          model,
          trainingJobName: job,
          datasetVersion: version,
          eventTime: time,
          datasetLocation: `s3://curated/${encodeURIComponent(version)}/`,
          output: { bucket: 'models', key: `${model}/model.onnx`, sha256: sha, ...(modelVersion ? { modelVersion } : {}) },
        });
        expect(runEventErrors(e)).toEqual([]);
      },
    ));
  });
});

describe('promotion', () => {
  const input = { endpoint: 'hearing', modelVersion: '1.0.0', modelBucket: 'models', modelKey: 'hearing-grade/models/j/model.onnx', modelSha256: SHA, eventTime: T };
  test('model bytes in, endpoint version out', () => {
    const e = promotionEvent({ ...input, previousModelVersion: '0.9.0' });
    expectValidRunEvent(e);
    expect(e.inputs).toEqual([{ namespace: 's3://models', name: input.modelKey }]);
    expect(e.outputs[0]).toMatchObject({ namespace: 'cdk-secure-mlops-endpoint', name: 'hearing/1.0.0' });
    expect(e.job.name).toBe('serverless-model-endpoint.hearing.promotion');
  });
  test('property: valid for any endpoint, version and time; FAIL too', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/), fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 2 ** 47 }), fc.boolean(),
      (endpoint, modelVersion, time, fail) => {
        expect(runEventErrors(promotionEvent({ ...input, endpoint, modelVersion, eventTime: time, ...(fail ? { error: 'Rollback' } : {}) }))).toEqual([]);
      }));
  });
  test('a bad sha is refused', () => {
    expect(() => promotionEvent({ ...input, modelSha256: 'x' })).toThrow(/modelSha256/);
  });
});

describe('UUID v7', () => {
  test('property: the time round-trips, version 7, variant 10, seeded ids are stable', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.string(), (ms, seed) => {
      const id = uuidV7(ms, seed);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(uuidV7Time(id)).toBe(ms);
      expect(uuidV7(ms, seed)).toBe(id);
      expect(uuidV7Time(uuidV7(ms))).toBe(ms);
    }));
  });
  test('not a v7: undefined; out of range: refused', () => {
    expect(uuidV7Time('123e4567-e89b-42d3-a456-426614174000')).toBeUndefined();
    expect(uuidV7Time('nope')).toBeUndefined();
    expect(() => uuidV7(-1)).toThrow(LineageInputError);
    expect(() => uuidV7(2 ** 48)).toThrow(LineageInputError);
  });
});

describe('records object', () => {
  test('JSON Lines sorted by record id, one per line, only the known keys', () => {
    const text = recordsJsonLines([rec(2), { ...rec(1), extra: 'x' } as any]);
    expect(text.trim().split('\n').map((l) => JSON.parse(l).recordId)).toEqual(['rec-00001', 'rec-00002']);
    expect(text).not.toMatch(/extra/);
    expect(recordsJsonLines([])).toBe('');
  });
});

describe('DataZone (off by default; request shape only, not verified against DataZone)', () => {
  test('PostLineageEvent request: domain, the event as UTF-8 JSON bytes, an idempotency token per run and type', async () => {
    const e = promotionEvent({ endpoint: 'hearing', modelVersion: '1', modelBucket: 'm', modelKey: 'k', modelSha256: SHA, eventTime: T });
    const req = postLineageEventRequest('dzd_abc123', e);
    expect(JSON.parse(new TextDecoder().decode(req.event))).toEqual(e);
    expect(req.clientToken).toBe(`${e.run.runId}-COMPLETE`);
    expect(() => postLineageEventRequest('my-domain', e)).toThrow(/dzd_/);
    const sent: unknown[] = [];
    await sendLineageEvents({ post: async (r) => void sent.push(r) }, 'dzd_abc123', [e, e]);
    expect(sent).toHaveLength(2);
    await expect(sendLineageEvents({ post: async () => { throw Object.assign(new Error('x'), { name: 'AccessDeniedException' }); } }, 'dzd_abc123', [e]))
      .rejects.toThrow(new RegExp(`run ${e.run.runId}.*AccessDeniedException`));
  });
});
