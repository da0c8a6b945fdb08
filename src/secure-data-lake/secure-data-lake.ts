import { Annotations, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { DataZone } from './data-zone';
import { autoDeleteProviderRoleArn, deploymentPrincipalArns, GuardedKey, guardBucket, guardKeyUse, GuardPrincipals, requireArns } from './lake-guards';
import { ALL_ZONES, zoneConstructId } from './zones';
import { MONITORING_KEYS } from '../contract/monitoring';
import { acknowledgeReviewed, compliance, REASON } from '../private/acknowledgments';
import { allowLogsService, createEncryptedLogGroup, retentionAtLeast } from '../private/encrypted-logs';
import { conflictingProps, invalidProp } from '../private/errors';

/**
 * How object lock protects object versions from being overwritten or deleted.
 */
export enum ObjectLockMode {
  /** Users with `s3:BypassGovernanceRetention` can still delete protected versions. */
  GOVERNANCE = 'GOVERNANCE',
  /** Nobody, not even the root user, can delete a protected version before retention ends. */
  COMPLIANCE = 'COMPLIANCE',
}

/**
 * Object lock (WORM) settings applied to every data zone.
 */
export interface ObjectLockOptions {
  /**
   * The object lock mode.
   *
   * @default ObjectLockMode.GOVERNANCE
   */
  readonly mode?: ObjectLockMode;

  /**
   * How long each object version is protected after it is written (whole days, at least 1).
   */
  readonly retention: Duration;
}

/**
 * Options for the optional CloudTrail trail that records S3 data events on every zone.
 */
export interface DataEventsTrailOptions {
  /**
   * How long the trail's CloudWatch Logs copy is kept.
   *
   * @default Duration.days(365)
   */
  readonly cloudWatchLogsRetention?: Duration;
}

/**
 * Properties of a `SecureDataLake`.
 */
export interface SecureDataLakeProps {
  /**
   * The key that encrypts every data zone (SSE-KMS with S3 Bucket Keys).
   *
   * When you bring your own key, its key policy is yours: the lake cannot add the statements that
   * limit its use to S3 in this account and to the principals it grants, and you should add them
   * yourself.
   *
   * @default - a new customer-managed key with yearly rotation, usable only through S3 by
   * principals of this account that were granted access to a zone (and the `administrators`)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * An HMAC key (`HMAC_256`, `GENERATE_VERIFY_MAC`) used to pseudonymize identifiers.
   *
   * HMAC keys cannot rotate automatically, and rotating one would change every pseudonym. When
   * you bring your own key, its key policy is yours (see `encryptionKey`).
   *
   * @default - a new HMAC_256 customer-managed key, usable only by the principals granted
   * `grantPseudonymize` (and the `administrators`)
   */
  readonly pseudonymizationKey?: kms.IKey;

  /**
   * What happens to the buckets and keys when they leave the stack.
   *
   * `RemovalPolicy.DESTROY` also empties the buckets on deletion (auto-delete objects) and is
   * refused while object lock is on. `SNAPSHOT` is not supported by S3.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Object lock (write once, read many) on every data zone. Can only be turned on when the
   * buckets are created.
   *
   * @default - no object lock
   */
  readonly objectLock?: ObjectLockOptions;

  /**
   * How long a noncurrent (overwritten or deleted) object version is kept in a data zone.
   *
   * @default Duration.days(90)
   */
  readonly noncurrentVersionExpiration?: Duration;

  /**
   * Expire current objects in the raw zone this long after upload.
   *
   * Raw data is the only copy of what a client sent: it is kept forever unless you ask.
   *
   * @default - raw data never expires
   */
  readonly rawDataExpiration?: Duration;

  /**
   * Expire current objects in the quarantine zone this long after they were quarantined.
   *
   * @default - quarantined records never expire
   */
  readonly quarantineExpiration?: Duration;

  /**
   * Expire prediction captures (`monitoring/captures/` of the models zone, written by
   * `ServerlessModelEndpoint` with `capture`) this long after they were written. Captures hold
   * the inputs of predictions (health data): they are kept only as long as drift monitoring and
   * ground-truth joins need them. The zone is versioned: an expired capture becomes a noncurrent
   * version, deleted after `noncurrentVersionExpiration`.
   *
   * @default Duration.days(90)
   */
  readonly predictionCaptureExpiration?: Duration;

  /**
   * Move curated data and model artifacts to S3 Intelligent-Tiering.
   *
   * @default true
   */
  readonly intelligentTiering?: boolean;

  /**
   * Expire server access logs this long after delivery.
   *
   * @default - access logs never expire
   */
  readonly accessLogsExpiration?: Duration;

  /**
   * Allow object access to the clean, curated, quarantine and models zones only through these
   * VPC endpoints (requests that AWS services make on a principal's behalf stay allowed). The raw
   * zone stays reachable from the internet for presigned uploads.
   *
   * @default - no VPC endpoint restriction
   */
  readonly allowedVpcEndpoints?: ec2.IVpcEndpoint[];

  /**
   * Record S3 data events (reads and writes of objects) of every zone in a dedicated,
   * encrypted CloudTrail trail with log file validation and a CloudWatch Logs copy.
   *
   * @default - no trail
   */
  readonly dataEventsTrail?: DataEventsTrailOptions;

  /**
   * Named administrators (break-glass principals): IAM roles or users that may, besides the
   * principals the grants name, use the lake's keys, delete object versions (for example to erase a
   * data subject's records) and change the buckets' configuration and the keys' policies.
   *
   * Everyone else in the account is denied those, whatever their IAM policies say: cryptographic
   * use of the data key and of the pseudonymization key is limited by the key policies to the
   * principals granted through the lake (`grantRead`, `grantWrite`, `grantPseudonymize`), a zone
   * bucket's grants or the keys' own grants. Key administration (rotation, tags, deletion
   * schedule) stays with the account's IAM policies; key policy changes with the deployment
   * principals, the administrators and the account's root user.
   *
   * @default - no administrators
   */
  readonly administrators?: iam.IPrincipal[];

  /**
   * The principals CloudFormation deploys this stack with. Only they (and the administrators) may
   * change the buckets' configuration (policy, versioning, lifecycle, encryption, logging, ...) and
   * the keys' policies, so that stack updates keep working while nobody else can weaken them.
   *
   * With the default `DefaultStackSynthesizer` (`cdk deploy`, CDK Pipelines) this is the
   * bootstrap's CloudFormation execution role (`cdk-<qualifier>-cfn-exec-role-<account>-<region>`,
   * or the synthesizer's `cloudFormationExecutionRole`). If you deploy differently (another
   * synthesizer, `CliCredentialsStackSynthesizer`, `cdk deploy --role-arn`, a CloudFormation
   * service role of your own), name the role(s) that CloudFormation acts as here. If a wrong
   * principal is named, updates of the bucket policies fail with AccessDenied (the account's root
   * user can still delete a bucket policy) and a new key policy is refused by KMS's lockout check.
   *
   * @default - the CloudFormation execution role of the stack's DefaultStackSynthesizer; with any
   * other synthesizer the prop is required
   */
  readonly deploymentPrincipals?: iam.IPrincipal[];
}

/**
 * Attributes to import a data lake defined elsewhere.
 */
export interface SecureDataLakeAttributes {
  /** ARN of the raw zone bucket. */
  readonly rawBucketArn: string;
  /** ARN of the clean zone bucket. */
  readonly cleanBucketArn: string;
  /** ARN of the curated zone bucket. */
  readonly curatedBucketArn: string;
  /** ARN of the quarantine zone bucket. */
  readonly quarantineBucketArn: string;
  /** ARN of the models zone bucket. */
  readonly modelsBucketArn: string;
  /** ARN of the KMS key that encrypts the zones. */
  readonly encryptionKeyArn: string;
  /**
   * ARN of the HMAC key that pseudonymizes identifiers.
   *
   * @default - the imported lake has no pseudonymization key
   */
  readonly pseudonymizationKeyArn?: string;
}

/**
 * A secure data lake: one encrypted bucket per `DataZone`.
 */
export interface ISecureDataLake extends IConstruct {
  /** The key that encrypts the data zones. */
  readonly encryptionKey: kms.IKey;

  /**
   * The HMAC key that pseudonymizes identifiers, if the lake has one.
   */
  readonly pseudonymizationKey?: kms.IKey;

  /**
   * The bucket of a zone.
   */
  bucket(zone: DataZone): s3.IBucket;

  /**
   * Grant read access to the objects of one zone (and decrypt on its key). Without a key
   * pattern it also grants listing the zone.
   *
   * @param grantee the principal
   * @param zone the zone
   * @param objectsKeyPattern restrict access to objects whose key matches this pattern
   */
  grantRead(grantee: iam.IGrantable, zone: DataZone, objectsKeyPattern?: string): iam.Grant;

  /**
   * Grant permission to put objects into one zone (and encrypt with its key). Does not grant
   * delete: data zones are versioned and their history is kept by lifecycle rules.
   *
   * @param grantee the principal
   * @param zone the zone
   * @param objectsKeyPattern restrict access to objects whose key matches this pattern
   */
  grantWrite(grantee: iam.IGrantable, zone: DataZone, objectsKeyPattern?: string): iam.Grant;

  /**
   * Grant read and put (no delete) on one zone.
   *
   * @param grantee the principal
   * @param zone the zone
   * @param objectsKeyPattern restrict access to objects whose key matches this pattern
   */
  grantReadWrite(grantee: iam.IGrantable, zone: DataZone, objectsKeyPattern?: string): iam.Grant;

  /**
   * Grant `kms:GenerateMac` on the pseudonymization key.
   */
  grantPseudonymize(grantee: iam.IGrantable): iam.Grant;

  /**
   * The daily average size of a zone in bytes (S3 storage metric, Standard storage class).
   */
  metricBucketSizeBytes(zone: DataZone, props?: cloudwatch.MetricOptions): cloudwatch.Metric;

  /**
   * The daily average number of objects in a zone (S3 storage metric).
   */
  metricNumberOfObjects(zone: DataZone, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

const READ_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion'];
const WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'];

abstract class SecureDataLakeBase extends Construct implements ISecureDataLake {
  public abstract readonly encryptionKey: kms.IKey;
  public abstract readonly pseudonymizationKey?: kms.IKey;
  /** @internal */
  protected readonly _buckets = new Map<DataZone, s3.IBucket>();

  public bucket(zone: DataZone): s3.IBucket {
    const bucket = this._buckets.get(zone);
    if (!bucket) {
      invalidProp(this, 'zone', zone, `expected one of ${ALL_ZONES.join(', ')}`);
    }
    return bucket;
  }

  public grantRead(grantee: iam.IGrantable, zone: DataZone, objectsKeyPattern?: string): iam.Grant {
    // Listing reveals every key name, so it comes only with access to every object.
    const bucketActions = objectsKeyPattern === undefined ? ['s3:ListBucket'] : [];
    return this.grantZone(grantee, zone, READ_ACTIONS, ['kms:Decrypt'], objectsKeyPattern, bucketActions);
  }

  public grantWrite(grantee: iam.IGrantable, zone: DataZone, objectsKeyPattern?: string): iam.Grant {
    // kms:Decrypt is needed to complete multipart uploads; it reveals nothing without s3:GetObject.
    return this.grantZone(grantee, zone, WRITE_ACTIONS, ['kms:GenerateDataKey', 'kms:Decrypt'], objectsKeyPattern);
  }

  public grantReadWrite(grantee: iam.IGrantable, zone: DataZone, objectsKeyPattern?: string): iam.Grant {
    return this.grantRead(grantee, zone, objectsKeyPattern).combine(this.grantWrite(grantee, zone, objectsKeyPattern));
  }

  /**
   * The one grant helper: exact S3 actions on one zone's objects (and optionally the bucket), plus
   * the KMS actions those S3 calls need on the zone's key. No wildcard actions.
   */
  private grantZone(
    grantee: iam.IGrantable,
    zone: DataZone,
    objectActions: string[],
    keyActions: string[],
    objectsKeyPattern = '*',
    bucketActions: string[] = [],
  ): iam.Grant {
    const bucket = this.bucket(zone);
    this._onGrant();
    let grant = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: objectActions,
      resourceArns: [bucket.arnForObjects(objectsKeyPattern)],
      resource: bucket,
    });
    if (bucketActions.length > 0) {
      grant = grant.combine(iam.Grant.addToPrincipalOrResource({
        grantee,
        actions: bucketActions,
        resourceArns: [bucket.bucketArn],
        resource: bucket,
      }));
    }
    return grant.combine(this.encryptionKey.grant(grantee, ...keyActions));
  }

  public grantPseudonymize(grantee: iam.IGrantable): iam.Grant {
    if (!this.pseudonymizationKey) {
      throw new Error(`${this.node.path}: this data lake has no pseudonymization key; import it with pseudonymizationKeyArn`);
    }
    this._onGrant();
    return this.pseudonymizationKey.grant(grantee, 'kms:GenerateMac');
  }

  /** Called before each grant. @internal */
  protected _onGrant(): void {}

  public metricBucketSizeBytes(zone: DataZone, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.storageMetric('BucketSizeBytes', 'StandardStorage', zone, props);
  }

  public metricNumberOfObjects(zone: DataZone, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.storageMetric('NumberOfObjects', 'AllStorageTypes', zone, props);
  }

  private storageMetric(metricName: string, storageType: string, zone: DataZone, props?: cloudwatch.MetricOptions) {
    return new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName,
      dimensionsMap: { BucketName: this.bucket(zone).bucketName, StorageType: storageType },
      period: Duration.days(1),
      statistic: cloudwatch.Stats.AVERAGE,
      ...props,
    });
  }
}

/**
 * Define a data lake for regulated (health) data: one KMS-encrypted, versioned, TLS-only,
 * access-logged S3 bucket per `DataZone`, EventBridge notifications, a customer-managed key
 * usable only through S3, and an HMAC key to pseudonymize identifiers.
 *
 * Everything is retained when removed from the stack unless you opt in to `RemovalPolicy.DESTROY`.
 *
 * @example
 * import { Stack } from 'aws-cdk-lib';
 * import * as iam from 'aws-cdk-lib/aws-iam';
 * import { DataZone, SecureDataLake } from 'cdk-secure-mlops';
 *
 * declare const stack: Stack;
 * declare const trainingRole: iam.IRole;
 *
 * const lake = new SecureDataLake(stack, 'Lake');
 * lake.grantRead(trainingRole, DataZone.CURATED);
 * lake.grantWrite(trainingRole, DataZone.MODELS);
 */
export class SecureDataLake extends SecureDataLakeBase {
  /**
   * Import a data lake defined elsewhere from its bucket and key ARNs.
   */
  public static fromSecureDataLakeAttributes(scope: Construct, id: string, attrs: SecureDataLakeAttributes): ISecureDataLake {
    return new ImportedSecureDataLake(scope, id, attrs);
  }

  public readonly encryptionKey: kms.IKey;
  public readonly pseudonymizationKey?: kms.IKey;

  /** The bucket that receives the server access logs of every zone (SSE-S3, as S3 log delivery requires). */
  public readonly accessLogsBucket: s3.IBucket;

  /** The CloudTrail trail that records S3 data events, when `dataEventsTrail` is set. */
  public readonly dataEventsTrail?: cloudtrail.Trail;

  private readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: SecureDataLakeProps = {}) {
    super(scope, id);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (removalPolicy === RemovalPolicy.SNAPSHOT) {
      invalidProp(this, 'removalPolicy', 'SNAPSHOT', 'S3 buckets support RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY');
    }
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    if (destroy && props.objectLock) {
      conflictingProps(this, 'removalPolicy DESTROY cannot be combined with objectLock: locked object versions cannot be deleted. Remove objectLock or keep the default RETAIN.');
    }
    const objectLockRetention = props.objectLock
      ? this.wholeDays('objectLock.retention', props.objectLock.retention, 1)
      : undefined;
    const noncurrentExpiration = this.wholeDays('noncurrentVersionExpiration', props.noncurrentVersionExpiration ?? Duration.days(90), 1);
    const rawExpiration = props.rawDataExpiration && this.wholeDays('rawDataExpiration', props.rawDataExpiration, 1);
    const quarantineExpiration = props.quarantineExpiration && this.wholeDays('quarantineExpiration', props.quarantineExpiration, 1);
    const accessLogsExpiration = props.accessLogsExpiration && this.wholeDays('accessLogsExpiration', props.accessLogsExpiration, 1);
    const captureExpiration = this.wholeDays('predictionCaptureExpiration', props.predictionCaptureExpiration ?? Duration.days(90), 1);
    if (props.allowedVpcEndpoints && props.allowedVpcEndpoints.length === 0) {
      invalidProp(this, 'allowedVpcEndpoints', [], 'give at least one VPC endpoint, or leave the prop out for no restriction');
    }

    const guards: GuardPrincipals = {
      administrators: (props.administrators ?? []).flatMap((p) => requireArns(this, p, 'administrators')),
      deployment: deploymentPrincipalArns(this, props.deploymentPrincipals),
    };
    this.encryptionKey = props.encryptionKey ?? this.createDataKey(removalPolicy, guards);
    this.pseudonymizationKey = props.pseudonymizationKey ?? this.createPseudonymizationKey(removalPolicy, guards);

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access log delivery supports SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        {
          id: 'AccessLogs',
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          noncurrentVersionExpiration: Duration.days(noncurrentExpiration),
          expiration: accessLogsExpiration ? Duration.days(accessLogsExpiration) : undefined,
        },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    this.accessLogsBucket = this.accessLogs;
    // With DESTROY, aws-cdk-lib's auto-delete provider empties the buckets when they are deleted.
    const maintainers = () => {
      const provider = destroy ? autoDeleteProviderRoleArn(this) : undefined;
      return provider ? [provider] : [];
    };
    guardBucket(this.accessLogs, guards, maintainers());

    for (const zone of ALL_ZONES) {
      const lifecycleRules: s3.LifecycleRule[] = [
        {
          id: 'NoncurrentVersions',
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          noncurrentVersionExpiration: Duration.days(noncurrentExpiration),
          expiredObjectDeleteMarker: true,
        },
      ];
      if (zone === DataZone.RAW && rawExpiration) {
        lifecycleRules.push({ id: 'RawDataExpiration', expiration: Duration.days(rawExpiration) });
      }
      if (zone === DataZone.QUARANTINE && quarantineExpiration) {
        lifecycleRules.push({ id: 'QuarantineExpiration', expiration: Duration.days(quarantineExpiration) });
      }
      if (zone === DataZone.MODELS) {
        lifecycleRules.push({ id: 'PredictionCaptures', prefix: MONITORING_KEYS.capturesRoot, expiration: Duration.days(captureExpiration) });
      }
      if ((zone === DataZone.CURATED || zone === DataZone.MODELS) && (props.intelligentTiering ?? true)) {
        lifecycleRules.push({
          id: 'IntelligentTiering',
          transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(0) }],
        });
      }

      const bucket = new s3.Bucket(this, zoneConstructId(zone), {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.encryptionKey,
        bucketKeyEnabled: true,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned: true,
        objectLockEnabled: props.objectLock ? true : undefined,
        objectLockDefaultRetention: props.objectLock
          ? (props.objectLock.mode === ObjectLockMode.COMPLIANCE
            ? s3.ObjectLockRetention.compliance(Duration.days(objectLockRetention!))
            : s3.ObjectLockRetention.governance(Duration.days(objectLockRetention!)))
          : undefined,
        lifecycleRules,
        removalPolicy,
        autoDeleteObjects: destroy,
      });
      const cfnBucket = bucket.node.defaultChild as s3.CfnBucket;
      // EventBridge "Object Created" events without CDK's notifications helper Lambda.
      cfnBucket.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
      this.logTo(bucket, `${zone}/`);
      this.denyForeignEncryption(bucket);
      guardBucket(bucket, guards, maintainers());
      if (props.allowedVpcEndpoints && zone !== DataZone.RAW) {
        this.denyOutsideVpcEndpoints(bucket, props.allowedVpcEndpoints);
      }
      this._buckets.set(zone, bucket);
    }

    if (props.dataEventsTrail) {
      this.dataEventsTrail = this.createDataEventsTrail(props.dataEventsTrail, removalPolicy, destroy, noncurrentExpiration);
      guardBucket(this.node.findChild('TrailBucket') as s3.Bucket, guards, maintainers());
    }

    acknowledgeReviewed(this, [
      { at: /^(Raw|Clean|Curated|Quarantine|Models|AccessLogs|TrailBucket)\/Resource$/, ids: compliance('S3BucketReplicationEnabled'), reason: REASON.replication },
      { at: /^AccessLogs\/Resource$/, ids: compliance('S3DefaultEncryptionKMS'), reason: REASON.accessLogSse },
      { at: /^DataEventsTrail\/LogsRole\/DefaultPolicy\/Resource$/, ids: compliance('IAMNoInlinePolicy'), reason: `The CloudTrail-to-CloudWatch-Logs role of aws-cdk-lib's Trail: ${REASON.inlinePolicy}` },
    ]);
  }

  /** The raw zone: uploads exactly as received. */
  public get rawBucket(): s3.IBucket { return this.bucket(DataZone.RAW); }
  /** The clean zone: validated, pseudonymized records. */
  public get cleanBucket(): s3.IBucket { return this.bucket(DataZone.CLEAN); }
  /** The curated zone: labelled records and dataset manifests. */
  public get curatedBucket(): s3.IBucket { return this.bucket(DataZone.CURATED); }
  /** The quarantine zone: rejected records with their reasons. */
  public get quarantineBucket(): s3.IBucket { return this.bucket(DataZone.QUARANTINE); }
  /** The models zone: trained model artifacts. */
  public get modelsBucket(): s3.IBucket { return this.bucket(DataZone.MODELS); }

  private createPseudonymizationKey(removalPolicy: RemovalPolicy, guards: GuardPrincipals): kms.Key {
    const key = new GuardedKey(this, 'PseudonymizationKey', {
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      description: `${this.node.path}: HMAC key that pseudonymizes identifiers`,
      removalPolicy,
    });
    guardKeyUse(key, guards);
    return key;
  }

  private createDataKey(removalPolicy: RemovalPolicy, guards: GuardPrincipals): kms.Key {
    const key = new GuardedKey(this, 'EncryptionKey', {
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      description: `${this.node.path}: encrypts the data zones (usable only through S3)`,
      removalPolicy,
    });
    const stack = Stack.of(this);
    const dataActions = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'];
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyUseOutsideS3',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: dataActions,
      resources: ['*'],
      conditions: { StringNotEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
    }));
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyUseByOtherAccounts',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: dataActions,
      resources: ['*'],
      conditions: { StringNotEquals: { 'kms:CallerAccount': stack.account } },
    }));
    guardKeyUse(key, guards);
    return key;
  }

  /** Deliver the bucket's server access logs to the access-log bucket, without ACLs. */
  private logTo(bucket: s3.Bucket, prefix: string) {
    const cfnBucket = bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.loggingConfiguration = {
      destinationBucketName: this.accessLogs.bucketName,
      logFilePrefix: prefix,
    };
    this.accessLogs.addToResourcePolicy(new iam.PolicyStatement({
      sid: `AllowAccessLogsFrom${bucket.node.id}`,
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [this.accessLogs.arnForObjects(`${prefix}*`)],
      conditions: {
        ArnLike: { 'aws:SourceArn': bucket.bucketArn },
        StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      },
    }));
  }

  /**
   * Deny uploads that ask for another KMS key or another kind of encryption. A `Null` condition
   * makes each statement apply only when the header is present (the bucket default applies
   * otherwise); negated and `IfExists` conditions alone would be true when it is absent.
   */
  private denyForeignEncryption(bucket: s3.Bucket) {
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyUploadsWithForeignKmsKey',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects('*')],
      conditions: {
        Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
        StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': this.encryptionKey.keyArn },
      },
    }));
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyUploadsWithOtherEncryption',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects('*')],
      conditions: {
        Null: { 's3:x-amz-server-side-encryption': 'false' },
        StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
      },
    }));
  }

  private denyOutsideVpcEndpoints(bucket: s3.Bucket, endpoints: ec2.IVpcEndpoint[]) {
    bucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyObjectAccessOutsideVpcEndpoints',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: [
        's3:GetObject*', 's3:PutObject*', 's3:DeleteObject*', 's3:RestoreObject',
        's3:ListBucket', 's3:ListBucketVersions', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload',
      ],
      resources: [bucket.bucketArn, bucket.arnForObjects('*')],
      conditions: {
        StringNotEquals: { 'aws:SourceVpce': endpoints.map((e) => e.vpcEndpointId) },
        BoolIfExists: { 'aws:ViaAWSService': 'false', 'aws:PrincipalIsAWSService': 'false' },
      },
    }));
  }

  private createDataEventsTrail(options: DataEventsTrailOptions, removalPolicy: RemovalPolicy, destroy: boolean, noncurrentExpiration: number) {
    const stack = Stack.of(this);
    const trails = `arn:${stack.partition}:cloudtrail:${stack.region}:${stack.account}:trail/*`;
    const auditKey = new kms.Key(this, 'AuditKey', {
      enableKeyRotation: true,
      description: `${this.node.path}: encrypts the S3 data-events trail and its log group`,
      removalPolicy,
    });
    auditKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudTrailToEncryptLogs',
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${stack.partition}:cloudtrail:*:${stack.account}:trail/*` },
        StringEquals: { 'aws:SourceAccount': stack.account },
        // The trails of this account and region (the trail's own ARN cannot be named: it refers to the key).
        ArnLike: { 'aws:SourceArn': trails },
      },
    }));
    auditKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudTrailToDescribeKey',
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:DescribeKey'],
      resources: ['*'],
      conditions: { StringEqualsIfExists: { 'aws:SourceAccount': stack.account }, ArnLikeIfExists: { 'aws:SourceArn': trails } },
    }));
    allowLogsService(auditKey);

    const trailBucket = new s3.Bucket(this, 'TrailBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: auditKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [{
        id: 'NoncurrentVersions',
        abortIncompleteMultipartUploadAfter: Duration.days(7),
        noncurrentVersionExpiration: Duration.days(noncurrentExpiration),
      }],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
    this.logTo(trailBucket, 'trail/');

    const logGroup = createEncryptedLogGroup(
      this, 'TrailLogGroup', auditKey,
      retentionAtLeast(options.cloudWatchLogsRetention ?? Duration.days(365)),
      removalPolicy,
    );
    const trail = new cloudtrail.Trail(this, 'DataEventsTrail', {
      bucket: trailBucket,
      encryptionKey: auditKey,
      enableFileValidation: true,
      isMultiRegionTrail: false,
      includeGlobalServiceEvents: false,
      managementEvents: cloudtrail.ReadWriteType.NONE,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: logGroup as logs.ILogGroup,
    });
    // CloudTrail writes to the trail bucket and assumes the CloudWatch Logs role for this account's trails only.
    trailBucket.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyCloudTrailOfOtherTrails',
      effect: iam.Effect.DENY,
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['s3:GetBucketAcl', 's3:PutObject'],
      resources: [trailBucket.bucketArn, trailBucket.arnForObjects('*')],
      conditions: { ArnNotLike: { 'aws:SourceArn': trails } },
    }));
    const logsRole = trail.node.tryFindChild('LogsRole') as iam.Role | undefined;
    (logsRole?.node.defaultChild as iam.CfnRole | undefined)?.addPropertyOverride('AssumeRolePolicyDocument.Statement.0.Condition', {
      StringEqualsIfExists: { 'aws:SourceAccount': stack.account },
      ArnLikeIfExists: { 'aws:SourceArn': trails },
    });
    trail.addS3EventSelector(
      ALL_ZONES.map((zone) => ({ bucket: this.bucket(zone) })),
      { readWriteType: cloudtrail.ReadWriteType.ALL, includeManagementEvents: false },
    );
    return trail;
  }

  private wholeDays(prop: string, duration: Duration, min: number): number {
    const days = duration.toDays({ integral: false });
    if (Token.isUnresolved(days)) {
      invalidProp(this, prop, 'a token', 'give a literal Duration in whole days');
    }
    if (!Number.isInteger(days) || days < min) {
      invalidProp(this, prop, duration, `expected whole days, at least ${min}`);
    }
    return days;
  }
}

class ImportedSecureDataLake extends SecureDataLakeBase {
  public readonly encryptionKey: kms.IKey;
  public readonly pseudonymizationKey?: kms.IKey;
  private warned = false;
  constructor(scope: Construct, id: string, attrs: SecureDataLakeAttributes) {
    super(scope, id);
    this.encryptionKey = kms.Key.fromKeyArn(this, 'EncryptionKey', attrs.encryptionKeyArn);
    this.pseudonymizationKey = attrs.pseudonymizationKeyArn
      ? kms.Key.fromKeyArn(this, 'PseudonymizationKey', attrs.pseudonymizationKeyArn)
      : undefined;
    const arns: Record<string, string> = {
      raw: attrs.rawBucketArn,
      clean: attrs.cleanBucketArn,
      curated: attrs.curatedBucketArn,
      quarantine: attrs.quarantineBucketArn,
      models: attrs.modelsBucketArn,
    };
    for (const zone of ALL_ZONES) {
      this._buckets.set(zone, s3.Bucket.fromBucketAttributes(this, zoneConstructId(zone), {
        bucketArn: arns[zone],
        encryptionKey: this.encryptionKey,
      }));
    }
  }

  protected _onGrant(): void {
    if (this.warned) return;
    this.warned = true;
    Annotations.of(this).addWarningV2('cdk-secure-mlops:imported-lake-key-policy',
      'Grants on an imported lake change only the grantees\' IAM policies. A SecureDataLake\'s key policies allow key use only to '
      + 'the principals its own stack granted (and its administrators): grant the same principals on the defining lake too '
      + '(import each role there with iam.Role.fromRoleArn), or their reads, writes and pseudonyms will be refused.');
  }
}
