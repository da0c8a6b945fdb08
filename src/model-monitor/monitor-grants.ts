/**
 * The drift job's permissions, and nothing else: list, within the lake's models bucket, only the
 * endpoint's capture and ground-truth folders and the baselines folder (`s3:prefix` conditions);
 * read the objects of those three folders; write under the endpoint's reports folder; use the lake
 * key for those S3 calls (the lake's grants); put "Model Drift Detected" events, with the
 * monitor's source and that detail type only, on the one bus.
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MONITOR_DETAIL_TYPE, MONITOR_EVENT_SOURCE, MONITORING_KEYS } from '../contract/monitoring';
import { DataZone } from '../secure-data-lake/data-zone';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';

/**
 * Grant the drift job of capture `e` what it calls.
 *
 * @internal
 */
export function grantDriftJob(grantee: iam.IGrantable, lake: ISecureDataLake, e: string, bus: events.IEventBus): void {
  const reads = [MONITORING_KEYS.capturesPrefix(e), MONITORING_KEYS.groundTruthPrefix(e), MONITORING_KEYS.baselinesPrefix];
  for (const prefix of reads) lake.grantRead(grantee, DataZone.MODELS, `${prefix}*`);
  lake.grantWrite(grantee, DataZone.MODELS, `${MONITORING_KEYS.reportsPrefix(e)}*`);
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [lake.bucket(DataZone.MODELS).bucketArn],
    conditions: { StringLike: { 's3:prefix': reads.map((p) => `${p}*`) } },
  });
  // events:source and events:detail-type are multivalued (one value per entry): every entry must be
  // ours (ForAllValues), and the keys must be present (ForAllValues alone holds for a request without them).
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['events:PutEvents'],
    resourceArns: [bus.eventBusArn],
    conditions: {
      'ForAllValues:StringEquals': { 'events:source': [MONITOR_EVENT_SOURCE], 'events:detail-type': [MONITOR_DETAIL_TYPE.modelDriftDetected] },
      'Null': { 'events:source': 'false', 'events:detail-type': 'false' },
    },
  });
}
