/**
 * The lineage of one dataset-version build (src/lineage/events.ts `datasetBuildEvent`): the source
 * records are exactly the manifest lines of the version (read back from the built manifests, so
 * what lineage lists is what the version holds), each with its subject pseudonym, clean record,
 * raw upload and the upload's S3 version id from the ledger.
 */
import { RecordItem } from './contract';
import { DatasetVersion, readManifest, SPLITS } from './logic/dataset';
import { LINEAGE_KEYS, LineageSourceRecord } from '../../contract/lineage';
import { DatasetBuildLineage, datasetBuildEvent } from '../../lineage/runtime/events';

/** What the dataset handler knows after writing the manifests. */
export interface DatasetLineageInput {
  readonly pipeline: string;
  readonly datasetVersion: string;
  readonly version: DatasetVersion;
  /** The ledger's record items (for the raw upload and its version id). */
  readonly records: readonly RecordItem[];
  /** Epoch ms. */
  readonly eventTime: number;
  readonly curatedBucket: string;
  /** `<zone prefix>datasets/<version>/`. */
  readonly datasetPrefix: string;
  readonly cleanBucket: string;
  /** `<zone prefix>records/`. */
  readonly cleanPrefix: string;
}

/** The source records of a built version: one per manifest line, sorted by record id. */
export function manifestSourceRecords(version: DatasetVersion, ledger: readonly RecordItem[]): LineageSourceRecord[] {
  const byId = new Map(ledger.map((r) => [r.recordId, r]));
  const out: LineageSourceRecord[] = [];
  for (const split of SPLITS) {
    for (const e of readManifest(version.manifests[split]).entries) {
      if (e.recordId === undefined) continue;
      const item = byId.get(e.recordId);
      const versionId = typeof e.extra?.['source-version-id'] === 'string' ? e.extra['source-version-id'] as string : item?.sourceVersionId;
      const cleanRef = e.sourceRef ?? (typeof item?.cleanRef === 'string' ? item.cleanRef : undefined);
      out.push({
        recordId: e.recordId,
        subject: e.subjectPseudonym ?? (typeof item?.subject === 'string' ? item.subject : ''),
        ...(cleanRef ? { cleanRef } : {}),
        ...(typeof item?.source === 'string' && item.source ? { source: item.source } : {}),
        ...(versionId ? { sourceVersionId: versionId } : {}),
      });
    }
  }
  return out.sort((a, b) => (a.recordId < b.recordId ? -1 : a.recordId > b.recordId ? 1 : 0));
}

/** The build's lineage event (COMPLETE, published or blocked) and its records. */
export function datasetLineage(i: DatasetLineageInput): DatasetBuildLineage {
  const card = i.version.card;
  return datasetBuildEvent({
    pipeline: i.pipeline,
    datasetVersion: i.datasetVersion,
    eventTime: i.eventTime,
    curatedBucket: i.curatedBucket,
    datasetPrefix: i.datasetPrefix,
    cleanBucket: i.cleanBucket,
    cleanPrefix: i.cleanPrefix,
    records: manifestSourceRecords(i.version, i.records),
    published: i.version.report.publish,
    blockedReasons: i.version.report.blockedReasons,
    counts: { ...card.counts },
    manifestSha256: { ...card.manifestSha256 },
  }, LINEAGE_KEYS.records);
}
