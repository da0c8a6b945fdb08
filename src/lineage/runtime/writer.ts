/**
 * Stores lineage events in the lake's curated zone with their index objects (layout:
 * src/contract/lineage.ts). Every object is written once with If-None-Match: * and SSE-KMS: a
 * retried emission finds its objects there and carries on (idempotent); nothing is overwritten.
 *
 * Order: the records object, the subject index, the run index objects, and the event last, so an
 * event that is there has everything it points at.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DatasetBuildLineage, RunEvent } from './events';
import {
  LINEAGE_FACETS, LINEAGE_KEYS, LineageDatasetId, LineageIndexEntry, LineageSourceRecord, SubjectIndexEntry,
} from '../../contract/lineage';

/** Where lineage goes. */
export interface LineageTarget {
  /** The curated zone's bucket. */
  readonly bucket: string;
  /** The zone's KMS key (SSE-KMS on every object). @default - the bucket's default encryption */
  readonly kmsKeyArn?: string;
  /** PutObjects in flight (subject index objects). @default 16 */
  readonly concurrency?: number;
}

/** What `writeLineageEvent` wrote (or found already there). */
export interface LineageWriteResult {
  readonly eventKey: string;
  /** Objects written, and objects found already there (a retry). */
  readonly written: number;
  readonly existing: number;
}

/** The SHA-256 of a subject pseudonym, hex (the subject index's partition value). */
export function subjectKeyHash(pseudonym: string): string {
  return createHash('sha256').update(pseudonym, 'utf8').digest('hex');
}

/**
 * Write one run event (a RunEvent, or a dataset build's `DatasetBuildLineage` with its records)
 * and its index objects: `output=` for each output, `input=` for each input, `model-sha256=` for a
 * model version output, `subject=` for each subject of a dataset build (its records in that version).
 */
export async function writeLineageEvent(s3: S3Client, target: LineageTarget, lineage: RunEvent | DatasetBuildLineage): Promise<LineageWriteResult> {
  const event = 'event' in lineage ? lineage.event : lineage;
  const records = 'event' in lineage ? lineage.records : undefined;
  const eventKey = LINEAGE_KEYS.event(new Date(event.eventTime), event.run.runId, event.eventType);
  const runId = event.run.runId;
  const entry: LineageIndexEntry = {
    runId, eventType: event.eventType, eventTime: event.eventTime, eventKey, job: { namespace: event.job.namespace, name: event.job.name },
  };
  const objects: Array<{ key: string; body: string; contentType: string }> = [];
  const json = (key: string, value: unknown) => objects.push({ key, body: JSON.stringify(value) + '\n', contentType: 'application/json' });

  if ('event' in lineage && lineage.recordsObject) {
    objects.push({ key: lineage.recordsObject.key, body: lineage.recordsObject.body, contentType: 'application/jsonlines' });
  }
  if (records && event.eventType === 'COMPLETE') {
    const output = event.outputs[0];
    const facet = output?.outputFacets?.[LINEAGE_FACETS.datasetVersion];
    if (output && facet) {
      for (const [subject, own] of bySubject(records)) {
        const s: SubjectIndexEntry = {
          subject,
          dataset: { namespace: output.namespace, name: output.name },
          datasetVersion: String(facet.datasetVersion),
          published: facet.published === true,
          runId,
          eventKey,
          records: own,
        };
        json(LINEAGE_KEYS.subjectEntry(subjectKeyHash(subject), output), s);
      }
    }
  }
  for (const o of event.outputs) {
    json(LINEAGE_KEYS.indexEntry(LINEAGE_KEYS.producedBy(o), runId), entry);
    const model = o.outputFacets?.[LINEAGE_FACETS.modelVersion];
    if (model && typeof model.sha256 === 'string') json(LINEAGE_KEYS.indexEntry(LINEAGE_KEYS.modelSha256(model.sha256), runId), { ...entry, dataset: id(o) });
  }
  for (const i of event.inputs) json(LINEAGE_KEYS.indexEntry(LINEAGE_KEYS.consumedBy(i), runId), entry);

  let written = 0;
  let existing = 0;
  const put = async (o: { key: string; body: string; contentType: string }) => {
    if (await putOnce(s3, target, o.key, o.body, o.contentType)) written++;
    else existing++;
  };
  const limit = Math.max(1, Math.floor(target.concurrency ?? 16));
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, objects.length) }, async () => {
    while (next < objects.length) await put(objects[next++]);
  }));
  await put({ key: eventKey, body: JSON.stringify(event) + '\n', contentType: 'application/json' });
  return { eventKey, written, existing };
}

function id(d: LineageDatasetId): LineageDatasetId {
  return { namespace: d.namespace, name: d.name };
}

function bySubject(records: readonly LineageSourceRecord[]): Map<string, LineageSourceRecord[]> {
  const m = new Map<string, LineageSourceRecord[]>();
  for (const r of records) {
    if (!r.subject) continue;
    const list = m.get(r.subject) ?? [];
    list.push(r);
    m.set(r.subject, list);
  }
  return m;
}

/** PutObject with If-None-Match: *; false when the object was already there. */
async function putOnce(s3: S3Client, target: LineageTarget, key: string, body: string, contentType: string): Promise<boolean> {
  try {
    await s3.send(new PutObjectCommand({
      Bucket: target.bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      ServerSideEncryption: 'aws:kms',
      ...(target.kmsKeyArn ? { SSEKMSKeyId: target.kmsKeyArn } : {}),
      IfNoneMatch: '*',
    }));
    return true;
  } catch (e) {
    const name = (e as Error).name;
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (name === 'PreconditionFailed' || status === 412) return false;
    throw e;
  }
}
