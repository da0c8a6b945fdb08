import { cleaner, LABELING, NOW, record, recordNames, task, whoGrade } from './hearing';
import {
  buildDatasetVersion, compileSplitter, DatasetRecord, isoWithoutZone, ManifestError, MAX_MANIFEST_LINE, readManifest, readManifestLine,
  RowFailure, writeManifestLine,
} from '../../src/labeling-pipeline/runtime/logic/dataset';

const FORMATS_LINE = '{"source-ref":"s3://lake-clean/hearing/rec-7f3c.json","record-id":"rec-7f3c","subject-pseudonym":"hmac:4b1e...","who-grade":2,"who-grade-metadata":{"class-name":"moderate","confidence":0.97,"type":"labeling-pipeline/classification","job-name":"labeling-pipeline/hearing/run-2026-03-01T12-00Z","human-annotated":"no","creation-date":"2026-03-01T12:03:55.118204","labeler":"rules:who-grade@1","dataset-version":"hearing-v12"}}';

describe('augmented manifest', () => {
  test('reads the formats.md line and writes it back byte for byte', () => {
    const r = readManifestLine(FORMATS_LINE);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.entry).toEqual({
      sourceRef: 's3://lake-clean/hearing/rec-7f3c.json',
      recordId: 'rec-7f3c',
      subjectPseudonym: 'hmac:4b1e...',
      attribute: 'who-grade',
      label: 2,
      metadata: {
        className: 'moderate',
        confidence: 0.97,
        type: 'labeling-pipeline/classification',
        jobName: 'labeling-pipeline/hearing/run-2026-03-01T12-00Z',
        humanAnnotated: false,
        creationDate: '2026-03-01T12:03:55.118204',
        labeler: 'rules:who-grade@1',
        datasetVersion: 'hearing-v12',
      },
    });
    expect(writeManifestLine(r.entry)).toBe(FORMATS_LINE);
  });

  test('reads the underscored keys Ground Truth emitted for custom jobs, and writes hyphenated ones', () => {
    const gt = '{"source-ref":"s3://b/k","label":0,"label-metadata":{"class-name":"a","confidence":"0.5","type":"groundtruth/custom","job_name":"labeling-job/x","human-annotated":"yes","creation_date":"2020-01-01T00:00:00.000000"}}';
    const r = readManifestLine(gt);
    expect(r.ok && r.entry.metadata).toMatchObject({ jobName: 'labeling-job/x', creationDate: '2020-01-01T00:00:00.000000', humanAnnotated: true, confidence: 0.5 });
    expect(r.ok && writeManifestLine(r.entry)).toContain('"job-name":"labeling-job/x"');
  });

  test.each([
    ['not json', 'not valid JSON'],
    ['[1]', 'not a JSON object'],
    ['{"$x":1}', 'an attribute name starts with $'],
    ['{"source-ref":"s3://b/k"}', 'expected one label attribute with -metadata, found 0'],
    ['{"source-ref":"s3://b/k","l":1,"l-metadata":{"class-name":"a","confidence":1,"type":"t","job-name":"j","human-annotated":"maybe","creation-date":"d"}}', 'human-annotated must be yes or no'],
    ['{"l":1,"l-metadata":{}}', 'expected exactly one of source-ref and source'],
  ])('a bad line is a reason, not a throw: %s', (line, reason) => {
    expect(readManifestLine(line)).toEqual({ ok: false, reason });
  });

  test('the writer refuses lines over 100,000 characters and $ attributes', () => {
    const entry = readManifestLine(FORMATS_LINE);
    if (!entry.ok) throw new Error('fixture');
    expect(() => writeManifestLine({ ...entry.entry, sourceRef: 's3://b/' + 'k'.repeat(MAX_MANIFEST_LINE) })).toThrow(ManifestError);
    expect(() => writeManifestLine({ ...entry.entry, extra: { $ref: 1 } })).toThrow('starts with $');
    expect(() => writeManifestLine({ ...entry.entry, attribute: '$label' })).toThrow('not starting with $');
  });

  test('creation dates are ISO-8601 without zone', () => {
    expect(isoWithoutZone(Date.parse('2026-03-01T12:03:55.118Z'))).toBe('2026-03-01T12:03:55.118');
  });
});

describe('splits', () => {
  test('fractions are respected approximately and the split depends on the pseudonym only', () => {
    const split = compileSplitter(LABELING.split);
    const counts = { train: 0, validation: 0, test: 0 };
    for (let i = 0; i < 20000; i++) counts[split(`hmac:${i}`)]++;
    expect(counts.train / 20000).toBeCloseTo(0.8, 1);
    expect(counts.validation / 20000).toBeCloseTo(0.1, 1);
    expect(split('hmac:abc')).toBe(compileSplitter({ ...LABELING.split })('hmac:abc'));
  });

  test('fails if fractions do not sum to 1', () => {
    expect(() => compileSplitter({ train: 0.8, validation: 0.1, test: 0.2 })).toThrow('sum to 1, got 0.8 + 0.1 + 0.2');
  });
});

describe('dataset version from the hearing fixtures', () => {
  async function pipeline() {
    const c = cleaner();
    const who = whoGrade();
    const combine = task();
    const records: DatasetRecord[] = [];
    const quarantined: RowFailure[] = [];
    for (const name of recordNames()) {
      const r = await c.clean(record(name), { now: NOW });
      if (r.kind === 'quarantine') {
        quarantined.push({ id: `sha256:${r.inputSha256}`, codes: r.reasons.map((x) => x.code) });
        continue;
      }
      const d = combine(r.recordId, [{ labeler: who, output: who.label({ recordId: r.recordId, record: r.record }) }], NOW);
      records.push({ recordId: r.recordId, subject: r.subject!, sourceRef: `s3://clean/hearing/${r.recordId}.json`, label: d.route === 'auto' ? d.label : undefined });
    }
    return { records, quarantined, schemaSha256: c.schemaSha256 };
  }

  test('manifests, card and report; gates block publishing with reasons', async () => {
    const { records, quarantined, schemaSha256 } = await pipeline();
    const v = buildDatasetVersion({
      datasetVersion: 'hearing-v1',
      jobName: 'labeling-pipeline/hearing/run-1',
      now: NOW,
      attribute: 'who-grade',
      classes: LABELING.task.classes,
      records,
      quarantined,
      split: LABELING.split,
      schemaSha256,
      versions: { cleaning: 'hearing-clean@1', labeler: 'rules:who-grade@1' },
      gates: LABELING.gates,
    });
    // 4 clean files, of which 2 are the same record; 11 quarantined.
    expect(v.report.totals).toEqual({ clean: 3, labelled: 1, unlabelled: 2, quarantined: 11, duplicates: 1 });
    expect(v.card.counts.total).toBe(1);
    expect(v.report.publish).toBe(false);
    expect(v.report.blockedReasons).toEqual([
      'minRecords: 1 is below the limit 5',
      'maxQuarantineRate: 0.7857 is above the limit 0.5',
      'maxUnlabelledRate: 0.6667 is above the limit 0.5',
    ]);
    expect(v.report.rowFailures.every((f) => /^sha256:[0-9a-f]{64}$/.test(f.id))).toBe(true);
    expect(v.report.quarantineByCode).toMatchObject({ 'schema': 2, 'range': 2, 'invalid-json': 1 });
    const all = v.manifests.train + v.manifests.validation + v.manifests.test;
    const read = readManifest(all, 'who-grade');
    expect(read.errors).toEqual([]);
    expect(read.entries[0].metadata).toMatchObject({ className: 'mild', datasetVersion: 'hearing-v1', humanAnnotated: false, labeler: 'rules:who-grade@1' });
    expect(all).not.toContain('P-0042-AB');
    expect(v.card.schemaSha256).toBe(schemaSha256);
  });

  test('publishes when the gates pass; one subject never sits in two splits', () => {
    const combine = task();
    const records: DatasetRecord[] = [];
    for (let i = 0; i < 300; i++) {
      const subject = `hmac:${(i % 60).toString(16)}`;
      const l = combine(`rec-${i}`, [{ labeler: whoGrade(), output: { kind: 'label', className: LABELING.task.classes[i % 7], confidence: 0.9 } }], NOW).label!;
      records.push({ recordId: `rec-${i}`, subject, sourceRef: `s3://clean/${i}.json`, label: l });
    }
    const v = buildDatasetVersion({
      datasetVersion: 'v2',
      jobName: 'j',
      now: NOW,
      attribute: 'who-grade',
      classes: LABELING.task.classes,
      records,
      quarantined: [{ id: 'rec-q', codes: ['range'] }],
      split: LABELING.split,
      schemaSha256: '',
      versions: {},
      gates: { minRecords: 100, maxQuarantineRate: 0.01, minPerSplit: 1 },
    });
    expect(v.report.publish).toBe(true);
    expect(v.card.counts.total).toBe(300);
    const where = new Map<string, Set<string>>();
    for (const s of ['train', 'validation', 'test'] as const) {
      for (const e of readManifest(v.manifests[s]).entries) where.set(e.subjectPseudonym!, (where.get(e.subjectPseudonym!) ?? new Set()).add(s));
    }
    expect(where.size).toBe(60);
    expect([...where.values()].every((s) => s.size === 1)).toBe(true);
    expect(Object.values(v.card.classBalance.train).reduce((a, b) => a + b, 0)).toBe(v.card.counts.train);
  });
});

describe('inline sources', () => {
  const label = () => task()('rec-a', [{ labeler: whoGrade(), output: { kind: 'label', className: 'mild', confidence: 0.9 } }], NOW).label!;
  const build = (records: DatasetRecord[]) => buildDatasetVersion({
    datasetVersion: 'v-inline',
    jobName: 'j',
    now: NOW,
    attribute: 'who-grade',
    classes: LABELING.task.classes,
    records,
    quarantined: [],
    split: { train: 1, validation: 0, test: 0 },
    schemaSha256: '',
    versions: {},
  });

  test('a record with source is written as an inline "source" line (no source-ref) and read back', () => {
    const text = JSON.stringify({ thresholds: { left: { 500: 20 } }, subject: 'hmac:1' });
    const v = build([{ recordId: 'rec-a', subject: 'hmac:1', sourceRef: 's3://clean/rec-a.json', source: text, label: label() }]);
    const line = JSON.parse(v.manifests.train);
    expect(line.source).toBe(text);
    expect(line['source-ref']).toBeUndefined();
    const read = readManifest(v.manifests.train, 'who-grade');
    expect(read.errors).toEqual([]);
    expect(read.entries[0]).toMatchObject({ source: text, recordId: 'rec-a', label: 1 });
    expect(read.entries[0].sourceRef).toBeUndefined();
  });

  test('an inline record that makes the line longer than 100,000 characters is a manifest-line row failure', () => {
    const big = JSON.stringify({ notes: 'x'.repeat(MAX_MANIFEST_LINE) });
    const v = build([
      { recordId: 'rec-a', subject: 'hmac:1', sourceRef: 's3://clean/rec-a.json', source: big, label: label() },
      { recordId: 'rec-b', subject: 'hmac:2', sourceRef: 's3://clean/rec-b.json', source: '{}', label: { ...label(), recordId: 'rec-b' } },
    ]);
    expect(v.report.rowFailures).toEqual([{ id: 'rec-a', codes: ['manifest-line'] }]);
    expect(v.card.counts.total).toBe(1);
    expect(v.manifests.train.split('\n').every((l) => l.length <= MAX_MANIFEST_LINE)).toBe(true);
  });
});
