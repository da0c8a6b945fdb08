import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { DataZone, ObjectLockMode, SecureDataLake, SecureDataLakeProps } from '../../src';
import { ALL_ZONES, zoneConstructId } from '../../src/secure-data-lake/zones';

const ENV = { account: '111111111111', region: 'eu-central-1' };

function synth(props?: SecureDataLakeProps, extra?: (stack: Stack, lake: SecureDataLake) => void) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake', props);
  extra?.(stack, lake);
  return { stack, lake, template: Template.fromStack(stack) };
}

function zoneBuckets(template: Template) {
  return Object.entries(template.findResources('AWS::S3::Bucket'))
    .filter(([id]) => /^Lake(Raw|Clean|Curated|Quarantine|Models)[0-9A-F]{8}$/.test(id));
}

describe('SecureDataLake defaults', () => {
  const { template, lake, stack } = synth();

  test('one bucket per zone plus the access-log bucket', () => {
    expect(zoneBuckets(template)).toHaveLength(5);
    template.resourceCountIs('AWS::S3::Bucket', 6);
    expect(ALL_ZONES).toEqual(['raw', 'clean', 'curated', 'quarantine', 'models']);
    expect(Object.values(DataZone).sort()).toEqual([...ALL_ZONES].sort());
    for (const zone of ALL_ZONES) {
      expect(lake.bucket(zone).node.id).toBe(zoneConstructId(zone));
    }
    expect(ALL_ZONES.map(zoneConstructId)).toEqual(['Raw', 'Clean', 'Curated', 'Quarantine', 'Models']);
  });

  test('every zone is SSE-KMS with the lake key and S3 Bucket Keys', () => {
    const keyId = stack.getLogicalId(lake.encryptionKey.node.defaultChild as kms.CfnKey);
    for (const [, bucket] of zoneBuckets(template)) {
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{
        BucketKeyEnabled: true,
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      }]);
    }
  });

  test('the data key rotates yearly and may be used only through S3 by this account', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      RotationPeriodInDays: 365,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'DenyUseOutsideS3',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
            Condition: { StringNotEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
          }),
          Match.objectLike({
            Sid: 'DenyUseByOtherAccounts',
            Effect: 'Deny',
            Condition: { StringNotEquals: { 'kms:CallerAccount': '111111111111' } },
          }),
        ]),
      },
    });
  });

  test('a separate HMAC_256 key pseudonymizes identifiers', () => {
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    expect(lake.pseudonymizationKey).toBeDefined();
    expect(lake.pseudonymizationKey).not.toBe(lake.encryptionKey);
  });

  test('buckets are private, owner-enforced, versioned and TLS-only (1.2+)', () => {
    for (const [id, bucket] of zoneBuckets(template)) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      const policy = Object.values(template.findResources('AWS::S3::BucketPolicy', {
        Properties: { Bucket: { Ref: id } },
      }))[0];
      const statements = policy.Properties.PolicyDocument.Statement;
      expect(statements).toEqual(expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
      ]));
    }
  });

  test('bucket policies deny uploads with a foreign KMS key or another encryption, only when the header is present', () => {
    for (const [id] of zoneBuckets(template)) {
      const policy = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: id } } }))[0];
      const statements = policy.Properties.PolicyDocument.Statement;
      expect(statements).toEqual(expect.arrayContaining([
        expect.objectContaining({
          Sid: 'DenyUploadsWithForeignKmsKey',
          Effect: 'Deny',
          Action: 's3:PutObject',
          Condition: {
            Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
            StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': expect.anything() },
          },
        }),
        expect.objectContaining({
          Sid: 'DenyUploadsWithOtherEncryption',
          Condition: {
            Null: { 's3:x-amz-server-side-encryption': 'false' },
            StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
          },
        }),
      ]));
    }
  });

  test('lifecycle: noncurrent versions 90 days, multipart aborted, raw data never expires, curated and models tiered', () => {
    for (const [id, bucket] of zoneBuckets(template)) {
      const rules = bucket.Properties.LifecycleConfiguration.Rules;
      expect(rules).toEqual(expect.arrayContaining([expect.objectContaining({
        Id: 'NoncurrentVersions',
        NoncurrentVersionExpiration: { NoncurrentDays: 90 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        ExpiredObjectDeleteMarker: true,
      })]));
      // (the one expiration by default: prediction captures, capture-expiration.test.ts)
      expect(rules.some((r: any) => r.ExpirationInDays !== undefined && r.Id !== 'PredictionCaptures')).toBe(false);
      const tiered = rules.some((r: any) => r.Transitions?.[0]?.StorageClass === 'INTELLIGENT_TIERING');
      expect([id, tiered]).toEqual([id, /Curated|Models/.test(id)]);
    }
  });

  test('server access logs of every zone go to the SSE-S3 log bucket, which does not log into itself', () => {
    const logBucketId = stack.getLogicalId(lake.accessLogsBucket.node.defaultChild as any);
    const logBucket = template.toJSON().Resources[logBucketId];
    expect(logBucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault)
      .toEqual({ SSEAlgorithm: 'AES256' });
    expect(logBucket.Properties.LoggingConfiguration).toBeUndefined();
    for (const [id, bucket] of zoneBuckets(template)) {
      expect(bucket.Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: logBucketId },
        LogFilePrefix: `${id.replace(/^Lake/, '').replace(/[0-9A-F]{8}$/, '').toLowerCase()}/`,
      });
    }
    // Log delivery through the bucket policy (no ACLs), scoped to our buckets and account.
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Action: 's3:PutObject',
          Condition: { ArnLike: { 'aws:SourceArn': Match.anyValue() }, StringEquals: { 'aws:SourceAccount': '111111111111' } },
        })]),
      },
    });
  });

  test('EventBridge notifications without the notifications helper Lambda', () => {
    for (const [, bucket] of zoneBuckets(template)) {
      expect(bucket.Properties.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    }
    template.resourceCountIs('AWS::Lambda::Function', 0);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
  });

  test('everything is retained by default', () => {
    for (const type of ['AWS::S3::Bucket', 'AWS::KMS::Key']) {
      for (const resource of Object.values(template.findResources(type))) {
        expect(resource.DeletionPolicy).toBe('Retain');
        expect(resource.UpdateReplacePolicy).toBe('Retain');
      }
    }
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('no object lock, VPC restriction or trail unless asked', () => {
    for (const [, bucket] of zoneBuckets(template)) {
      expect(bucket.Properties.ObjectLockEnabled).toBeUndefined();
    }
    expect(JSON.stringify(template.toJSON())).not.toContain('aws:SourceVpce');
    template.resourceCountIs('AWS::CloudTrail::Trail', 0);
  });
});

describe('SecureDataLake props', () => {
  test('objectLock sets the mode and retention on every zone', () => {
    const { template } = synth({ objectLock: { mode: ObjectLockMode.COMPLIANCE, retention: Duration.days(2555) } });
    for (const [, bucket] of zoneBuckets(template)) {
      expect(bucket.Properties.ObjectLockEnabled).toBe(true);
      expect(bucket.Properties.ObjectLockConfiguration).toEqual({
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } },
      });
    }
  });

  test('objectLock defaults to GOVERNANCE', () => {
    const { template } = synth({ objectLock: { retention: Duration.days(30) } });
    template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } } },
    });
  });

  test('RemovalPolicy.DESTROY deletes and empties buckets and keys', () => {
    const { template } = synth({ removalPolicy: RemovalPolicy.DESTROY });
    for (const resource of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(resource.DeletionPolicy).toBe('Delete');
    }
    for (const resource of Object.values(template.findResources('AWS::KMS::Key'))) {
      expect(resource.DeletionPolicy).toBe('Delete');
    }
    // 5 zones + access logs
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 6);
  });

  test('expirations and lifecycle props', () => {
    const { template, lake, stack } = synth({
      rawDataExpiration: Duration.days(365),
      quarantineExpiration: Duration.days(30),
      noncurrentVersionExpiration: Duration.days(7),
      accessLogsExpiration: Duration.days(400),
      intelligentTiering: false,
    });
    const rulesOf = (zone: DataZone) =>
      template.toJSON().Resources[stack.getLogicalId(lake.bucket(zone).node.defaultChild as any)].Properties.LifecycleConfiguration.Rules;
    expect(rulesOf(DataZone.RAW)).toEqual(expect.arrayContaining([{ Id: 'RawDataExpiration', Status: 'Enabled', ExpirationInDays: 365 }]));
    expect(rulesOf(DataZone.QUARANTINE)).toEqual(expect.arrayContaining([{ Id: 'QuarantineExpiration', Status: 'Enabled', ExpirationInDays: 30 }]));
    expect(rulesOf(DataZone.CLEAN)).toEqual([expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } })]);
    expect(rulesOf(DataZone.CURATED).some((r: any) => r.Transitions)).toBe(false);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'AccessLogs', ExpirationInDays: 400 })] },
    });
  });

  test('bring your own keys: no new keys, buckets use the given key', () => {
    const { template } = synth(undefined, () => undefined);
    template.resourceCountIs('AWS::KMS::Key', 2);
    const app = new App();
    const stack = new Stack(app, 'Byo', { env: ENV });
    const encryptionKey = kms.Key.fromKeyArn(stack, 'Data', 'arn:aws:kms:eu-central-1:111111111111:key/11111111-2222-3333-4444-555555555555');
    const pseudonymizationKey = kms.Key.fromKeyArn(stack, 'Hmac', 'arn:aws:kms:eu-central-1:111111111111:key/66666666-2222-3333-4444-555555555555');
    new SecureDataLake(stack, 'Lake', { encryptionKey, pseudonymizationKey });
    const byo = Template.fromStack(stack);
    byo.resourceCountIs('AWS::KMS::Key', 0);
    byo.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: encryptionKey.keyArn } }] },
    });
  });

  test('allowedVpcEndpoints restricts object access of every zone but raw', () => {
    const { template, lake, stack } = synth(undefined, () => undefined);
    void template; void lake; void stack;
    const app = new App();
    const s = new Stack(app, 'Vpce', { env: ENV });
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const endpoint = vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    const l = new SecureDataLake(s, 'Lake', { allowedVpcEndpoints: [endpoint] });
    const t = Template.fromStack(s);
    for (const zone of ALL_ZONES) {
      const bucketId = s.getLogicalId(l.bucket(zone).node.defaultChild as any);
      const policy = Object.values(t.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucketId } } }))[0];
      const vpce = policy.Properties.PolicyDocument.Statement.find((st: any) => st.Sid === 'DenyObjectAccessOutsideVpcEndpoints');
      if (zone === DataZone.RAW) {
        expect(vpce).toBeUndefined();
      } else {
        expect(vpce).toMatchObject({
          Effect: 'Deny',
          Condition: {
            StringNotEquals: { 'aws:SourceVpce': [{ Ref: s.getLogicalId(endpoint.node.defaultChild as any) }] },
            BoolIfExists: { 'aws:ViaAWSService': 'false', 'aws:PrincipalIsAWSService': 'false' },
          },
        });
        expect(vpce.Action).not.toContain('s3:*');
      }
    }
  });

  test('dataEventsTrail records S3 data events of every zone, encrypted, validated, copied to CloudWatch Logs', () => {
    const { template } = synth({ dataEventsTrail: { cloudWatchLogsRetention: Duration.days(400) } });
    const trail = Object.values(template.findResources('AWS::CloudTrail::Trail'))[0];
    expect(trail.Properties).toMatchObject({
      EnableLogFileValidation: true,
      IsMultiRegionTrail: false,
      IncludeGlobalServiceEvents: false,
      KMSKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^LakeAuditKey/), 'Arn'] },
      CloudWatchLogsLogGroupArn: expect.anything(),
    });
    expect(trail.Properties.EventSelectors).toEqual([{
      IncludeManagementEvents: false,
      ReadWriteType: 'All',
      DataResources: [{ Type: 'AWS::S3::Object', Values: expect.any(Array) }],
    }]);
    expect(trail.Properties.EventSelectors[0].DataResources[0].Values).toHaveLength(5);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 400, KmsKeyId: Match.anyValue() });
    template.resourceCountIs('AWS::KMS::Key', 3);
  });

  test('CloudTrail and CloudWatch Logs act on the trail\'s key, bucket and role for this account\'s trails and log groups only', () => {
    const { template } = synth({ dataEventsTrail: {} });
    const t = template.toJSON();
    const arn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });
    const trails = arn(':cloudtrail:eu-central-1:111111111111:trail/*');
    const idOf = (type: string, prefix: string) => Object.keys(template.findResources(type)).find((id) => id.startsWith(prefix))!;
    const keyPolicy = t.Resources[idOf('AWS::KMS::Key', 'LakeAuditKey')].Properties.KeyPolicy.Statement;
    const sid = (s: string) => keyPolicy.find((x: any) => x.Sid === s);
    expect(sid('AllowCloudTrailToEncryptLogs').Condition).toEqual({
      StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': arn(':cloudtrail:*:111111111111:trail/*') },
      StringEquals: { 'aws:SourceAccount': '111111111111' },
      ArnLike: { 'aws:SourceArn': trails },
    });
    expect(sid('AllowCloudTrailToDescribeKey').Condition).toEqual({
      StringEqualsIfExists: { 'aws:SourceAccount': '111111111111' },
      ArnLikeIfExists: { 'aws:SourceArn': trails },
    });
    expect(sid('AllowCloudWatchLogsOfThisAccount').Condition).toEqual({
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': arn(':logs:eu-central-1:111111111111:log-group:*') },
      StringEqualsIfExists: { 'aws:SourceAccount': '111111111111' },
      ArnLikeIfExists: { 'aws:SourceArn': arn(':logs:eu-central-1:111111111111:*') },
    });
    const trailBucket = idOf('AWS::S3::Bucket', 'LakeTrailBucket');
    const bucketPolicy = Object.values<any>(t.Resources).find((r) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket.Ref === trailBucket)
      .Properties.PolicyDocument.Statement;
    expect(bucketPolicy.find((x: any) => x.Sid === 'DenyCloudTrailOfOtherTrails')).toEqual({
      Sid: 'DenyCloudTrailOfOtherTrails',
      Effect: 'Deny',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: ['s3:GetBucketAcl', 's3:PutObject'],
      Resource: [{ 'Fn::GetAtt': [trailBucket, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [trailBucket, 'Arn'] }, '/*']] }],
      Condition: { ArnNotLike: { 'aws:SourceArn': trails } },
    });
    const logsRole = t.Resources[idOf('AWS::IAM::Role', 'LakeDataEventsTrailLogsRole')].Properties.AssumeRolePolicyDocument.Statement;
    expect(logsRole).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Condition: { StringEqualsIfExists: { 'aws:SourceAccount': '111111111111' }, ArnLikeIfExists: { 'aws:SourceArn': trails } },
    }]);
  });
});

describe('SecureDataLake grants', () => {
  test('grantRead: read objects and list one zone, decrypt; nothing else', () => {
    const { template, stack, lake } = synth(undefined, (s, l) => {
      const role = new iam.Role(s, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      l.grantRead(role, DataZone.CURATED);
    });
    const curated = stack.getLogicalId(lake.curatedBucket.node.defaultChild as any);
    const key = stack.getLogicalId(lake.encryptionKey.node.defaultChild as any);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [curated, 'Arn'] }, '/*']] } },
          { Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [curated, 'Arn'] } },
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [key, 'Arn'] } },
        ],
      },
    });
  });

  test('grantWrite: put (never delete) under a key pattern, with the KMS actions S3 needs', () => {
    const { template, stack, lake } = synth(undefined, (s, l) => {
      const role = new iam.Role(s, 'Writer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      l.grantWrite(role, DataZone.RAW, 'uploads/*');
    });
    const raw = stack.getLogicalId(lake.rawBucket.node.defaultChild as any);
    const policy = Object.values(template.findResources('AWS::IAM::Policy'))[0];
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [raw, 'Arn'] }, '/uploads/*']] } },
      { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: expect.anything() },
    ]);
    expect(JSON.stringify(statements)).not.toMatch(/Delete|\*"?,?\s*"Resource"|s3:\*/);
  });

  test('grantReadWrite combines both; grantPseudonymize allows GenerateMac on the HMAC key only', () => {
    const { template, stack, lake } = synth(undefined, (s, l) => {
      const role = new iam.Role(s, 'Both', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      l.grantReadWrite(role, DataZone.CLEAN);
      l.grantPseudonymize(role);
    });
    const hmac = stack.getLogicalId(lake.pseudonymizationKey!.node.defaultChild as any);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))[0].Properties.PolicyDocument.Statement;
    const actions = statements.flatMap((st: any) => [].concat(st.Action));
    expect(actions).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateMac']));
    expect(statements).toEqual(expect.arrayContaining([{ Effect: 'Allow', Action: 'kms:GenerateMac', Resource: { 'Fn::GetAtt': [hmac, 'Arn'] } }]));
  });

  test('metrics name the zone bucket', () => {
    const { lake, stack } = synth();
    const metric = lake.metricBucketSizeBytes(DataZone.MODELS);
    expect(metric.namespace).toBe('AWS/S3');
    expect(metric.metricName).toBe('BucketSizeBytes');
    expect(stack.resolve(metric.dimensions)).toEqual({
      BucketName: { Ref: stack.getLogicalId(lake.modelsBucket.node.defaultChild as any) },
      StorageType: 'StandardStorage',
    });
    expect(lake.metricNumberOfObjects(DataZone.RAW, { period: Duration.days(2) }).period.toDays()).toBe(2);
  });

  test('fromSecureDataLakeAttributes grants on the imported buckets and key', () => {
    const app = new App();
    const stack = new Stack(app, 'Imp', { env: ENV });
    const arn = (z: string) => `arn:aws:s3:::lake-${z}`;
    const lake = SecureDataLake.fromSecureDataLakeAttributes(stack, 'Lake', {
      rawBucketArn: arn('raw'),
      cleanBucketArn: arn('clean'),
      curatedBucketArn: arn('curated'),
      quarantineBucketArn: arn('quarantine'),
      modelsBucketArn: arn('models'),
      encryptionKeyArn: 'arn:aws:kms:eu-central-1:111111111111:key/11111111-2222-3333-4444-555555555555',
    });
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    lake.grantRead(role, DataZone.MODELS, 'v1/*');
    expect(lake.bucket(DataZone.MODELS).bucketName).toBe('lake-models');
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: 'arn:aws:s3:::lake-models/v1/*' },
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: 'arn:aws:kms:eu-central-1:111111111111:key/11111111-2222-3333-4444-555555555555' },
        ],
      },
    });
    expect(() => lake.grantPseudonymize(role)).toThrow(/Imp\/Lake: this data lake has no pseudonymization key; import it with pseudonymizationKeyArn/);
  });
});

describe('SecureDataLake validation', () => {
  const make = (props: SecureDataLakeProps) => () => {
    const app = new App();
    new SecureDataLake(new Stack(app, 'V', { env: ENV }), 'Lake', props);
  };

  test('fails if DESTROY is combined with object lock', () => {
    expect(make({ removalPolicy: RemovalPolicy.DESTROY, objectLock: { retention: Duration.days(1) } }))
      .toThrow('V/Lake: removalPolicy DESTROY cannot be combined with objectLock: locked object versions cannot be deleted. Remove objectLock or keep the default RETAIN.');
  });

  test('fails if the removal policy is SNAPSHOT', () => {
    expect(make({ removalPolicy: RemovalPolicy.SNAPSHOT }))
      .toThrow('V/Lake: invalid removalPolicy: received "SNAPSHOT"; S3 buckets support RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY');
  });

  test('fails if a duration is not whole days', () => {
    expect(make({ noncurrentVersionExpiration: Duration.hours(36) }))
      .toThrow('V/Lake: invalid noncurrentVersionExpiration: received 1 day 12 hours; expected whole days, at least 1');
    expect(make({ objectLock: { retention: Duration.hours(1) } }))
      .toThrow(/invalid objectLock.retention: received 1 hour; expected whole days, at least 1/);
    expect(make({ rawDataExpiration: Duration.days(0) }))
      .toThrow(/invalid rawDataExpiration: received 0 days; expected whole days, at least 1/);
  });

  test('fails if allowedVpcEndpoints is empty', () => {
    expect(make({ allowedVpcEndpoints: [] }))
      .toThrow('V/Lake: invalid allowedVpcEndpoints: received []; give at least one VPC endpoint, or leave the prop out for no restriction');
  });
});
