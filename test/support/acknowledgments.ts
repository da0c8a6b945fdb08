/**
 * THE reviewed list of security acknowledgments, and the rules that may never be acknowledged.
 *
 * Every acknowledgment of a cdk-nag or CloudFormation-validator finding in this project lives in
 * `REVIEWED_ACKNOWLEDGMENTS` below, with the construct path it applies to and a written reason.
 * The security harness (`./security-harness.ts`) applies these entries before synthesis, and the
 * tests fail on:
 *   - a finding that is neither fixed nor listed here,
 *   - an acknowledgment made anywhere else (e.g. `Validations.of(x).acknowledge()` in src/) that
 *     is not listed here,
 *   - an entry here that no longer fires (stale), and
 *   - an entry here for a rule in `NEVER_ACKNOWLEDGED` (checked before anything is synthesized).
 *
 * How to add an entry (the test failure message prints the exact `id` and construct path):
 *   {
 *     id: 'AwsSolutions-IAM5[Resource::*]', // the granular id, exactly as reported
 *     path: 'LakeMaximal/Lake/Ingest/ServiceRole/DefaultPolicy/Resource', // or a glob / RegExp
 *     reason: 'xray:PutTraceSegments has no resource-level permissions.',
 *   }
 *
 * Ids:
 *   - cdk-nag: `<Pack>-<Rule>` or, for rules that report several findings per resource,
 *     `<Pack>-<Rule>[<finding>]`. A base id does NOT cover granular findings
 *     (`AwsSolutions-IAM5` does not acknowledge `AwsSolutions-IAM5[Resource::*]`).
 *   - CloudFormation validator: `CloudFormation-Validate::<RuleId>`, e.g.
 *     `CloudFormation-Validate::W3045`.
 *
 * Paths are construct paths without a leading slash (`Stack/Construct/Child/Resource`). A string
 * is an exact path or a glob (`*` = any characters within one path segment, `**` = any number of
 * segments); a RegExp is tested against the path as is. An acknowledgment on a construct also
 * covers everything below it, so prefer the deepest path that still covers the finding.
 */

/** One reviewed acknowledgment. */
export interface SecurityAcknowledgment {
  /** The finding id, granular where the rule reports granular findings. */
  readonly id: string;
  /** Construct path(s) the acknowledgment is applied to: exact path, glob, or RegExp. */
  readonly path: string | RegExp;
  /** Why this finding is acceptable. Written for an auditor. */
  readonly reason: string;
  /**
   * Names of the harness runs (the `name` passed to `runSecurityChecks`, globs allowed) this
   * entry is meant for.
   *
   * With `runs`, the entry is applied only in those runs, and in each of them it must match a
   * construct AND fire, or it is reported stale.
   * Without `runs`, the entry is applied in every run; it is stale where its path matches a
   * construct but no finding fires, and merely "not applicable" where its path matches nothing.
   *
   * @default - every run
   */
  readonly runs?: readonly string[];
}

const INLINE = 'customer-managed policies are reusable across principals; CDK grants write the role\'s own policy, attached to exactly this role and to nothing else, which is the narrower scope the rule is after.';

/** Roles that CDK Pipelines defines in the reference pipeline (examples/reference-app/pipeline-stack.ts). */
const PIPELINE_ROLES = /(^|\/)Pipeline\/(Pipeline\/Role|Pipeline\/Source\/[^/]+\/CodePipelineActionRole|Pipeline\/[^/]+\/[^/]+\/[^/]+\/Role|UpdatePipeline\/SelfMutation\/Role|Assets\/FileRole)\/DefaultPolicy\/Resource$/;

/**
 * The reviewed list: every acknowledged finding, where, and why.
 */
export const REVIEWED_ACKNOWLEDGMENTS: readonly SecurityAcknowledgment[] = [
  // SecureDataLake ships its acknowledgments (src/private/acknowledgments.ts).

  // SecureUploadApi and ServerlessModelEndpoint ship their acknowledgments (src/private/acknowledgments.ts).

  // LabelingPipeline ships its acknowledgments (src/private/acknowledgments.ts).

  // GpuTrainingJob ships its acknowledgments (src/private/acknowledgments.ts). What stays here are
  // the test's own resources (a model consumer's role and dead-letter queue in the maximal run).
  {
    id: 'AwsSolutions-IAM5[Resource::<LakeModels0AE35E72.Arn>/hearing-who-grade/*]',
    path: '**/ConsumerRole/DefaultPolicy/Resource',
    runs: ['gpu-training-job-maximal'],
    reason: 'A model consumer (grantReadModels) reads the artifacts and records of this one model, named per training job; read-only, one prefix of the models zone.',
  },
  ...['HIPAA.Security', 'NIST.800.53.R5'].map((pack) => ({
    id: `${pack}-IAMNoInlinePolicy`,
    path: 'TrainingMaximal/ConsumerRole/DefaultPolicy/Resource',
    runs: ['gpu-training-job-maximal'],
    reason: `The test's model-consumer role: ${INLINE}`,
  })),
  {
    id: 'Serverless-SQSRedrivePolicy',
    path: /(^|\/)ConsumerDlq\/Resource$/,
    runs: ['gpu-training-job-maximal'],
    reason: 'Terminal dead-letter queue of the test\'s consumer: it holds what could not be delivered for an operator to inspect and redrive.',
  },

  // ---- Reference pipeline (examples/reference-app/pipeline-stack.ts, run 'reference-pipeline') ----
  // Roles that aws-cdk-lib's CDK Pipelines defines (pipeline, source action, CodeBuild projects,
  // self-mutation, asset publishing) and the smoke-test roles. Logical ids are those of the test
  // (test/examples/pipeline-stack.test.ts): pipeline in 111111111111, Prod stage in 222222222222.
  ...[
    'AwsSolutions-IAM5[Action::s3:GetObject*]',
    'AwsSolutions-IAM5[Action::s3:GetBucket*]',
    'AwsSolutions-IAM5[Action::s3:List*]',
    'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
    'AwsSolutions-IAM5[Action::s3:Abort*]',
    'AwsSolutions-IAM5[Resource::<Artifacts82DD59A1.Arn>/*]',
    'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
    'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
  ].map((id) => ({
    id,
    path: PIPELINE_ROLES,
    runs: ['reference-pipeline'],
    reason: 'aws-cdk-lib\'s grantRead/grantReadWrite on the pipeline\'s own artifact bucket and its key: pipeline artifacts are objects with generated names under per-execution prefixes, so object-level access covers <bucket>/*; the actions are the grant\'s read (GetObject*, GetBucket*, List*) and, for writers, write (PutObject, DeleteObject*, Abort*) families on this one bucket, and Encrypt/Decrypt/ReEncrypt*/GenerateDataKey* on this one key. Nothing else is reachable.',
  })),
  ...['PipelineBuildSynthCdkBuildProject6BEFA8E6', 'PipelineDevSmokeTest94C1FEA9', 'PipelineProdSmokeTestEE2CAE0A', 'PipelineUpdatePipelineSelfMutationDAA41400'].flatMap((project) => [
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:eu-central-1:111111111111:log-group:/aws/codebuild/<${project}>:*]`,
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:eu-central-1:111111111111:report-group/<${project}>-*]`,
  ].map((id) => ({
    id,
    path: PIPELINE_ROLES,
    runs: ['reference-pipeline'],
    reason: 'aws-cdk-lib\'s CodeBuild Project grants its role the log streams of its own default log group (/aws/codebuild/<project>:*) and its own test report groups (<project>-*), whose names CodeBuild generates per build. The builds log to the KMS-encrypted BuildLogs group.',
  }))),
  ...[
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:eu-central-1:111111111111:log-group:/aws/codebuild/*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:eu-central-1:111111111111:report-group/*]',
    'AwsSolutions-IAM5[Resource::*]',
  ].map((id) => ({
    id,
    path: '**/Pipeline/Assets/FileRole/DefaultPolicy/Resource',
    runs: ['reference-pipeline'],
    reason: 'CDK Pipelines shares ONE role among all asset-publishing projects (AssetSingletonRole), whose number grows with the assets, so it grants CodeBuild logs and report groups of the account and region, and codebuild:BatchGetBuilds/StartBuild/StopBuild on * (which it needs as the publishing actions\' role), instead of one statement per project. Only codebuild.amazonaws.com may assume it (reduceAssetRoleTrustScope); its data access is the artifact bucket and the bootstrap file-publishing roles.',
  })),
  {
    id: 'AwsSolutions-IAM5[Resource::arn:*:iam::111111111111:role/*]',
    path: '**/Pipeline/UpdatePipeline/SelfMutation/Role/DefaultPolicy/Resource',
    runs: ['reference-pipeline'],
    reason: 'The self-mutation step runs `cdk deploy` of the pipeline stack, which assumes the CDK bootstrap roles; CDK Pipelines limits sts:AssumeRole to roles of the pipeline account tagged aws-cdk:bootstrap-role = deploy, file-publishing or image-publishing (condition on iam:ResourceTag).',
  },
  {
    id: 'AwsSolutions-IAM5[Resource::*]',
    path: '**/Pipeline/UpdatePipeline/SelfMutation/Role/DefaultPolicy/Resource',
    runs: ['reference-pipeline'],
    reason: 'cloudformation:DescribeStacks and s3:ListBucket on * let the CDK CLI find the bootstrap stack and its staging bucket before it assumes a bootstrap role; both only read metadata, no data.',
  },
  {
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:eu-central-1:222222222222:log-group:API-Gateway-Execution-Logs_*]',
    path: '**/CloudWatchRole/DefaultPolicy/Resource',
    runs: ['reference-pipeline'],
    reason: 'API Gateway creates one execution log group per API and stage, named API-Gateway-Execution-Logs_<apiId>/<stage>; the account-level role must cover that name pattern (and only it). Same finding as above, for the Prod account of the pipeline test.',
  },
  ...['HIPAA.Security', 'NIST.800.53.R5'].flatMap((pack) => [
    {
      id: `${pack}-IAMNoInlinePolicy`,
      path: /(^|\/)(Pipeline\/(Pipeline\/Role|Pipeline\/Source\/[^/]+\/CodePipelineActionRole|Pipeline\/[^/]+\/[^/]+\/[^/]+\/Role|CodeBuildActionRole|UpdatePipeline\/SelfMutation\/Role|Assets\/FileRole)|SmokeTest\/Role)\/DefaultPolicy\/Resource$/,
      runs: ['reference-pipeline'],
      reason: `Roles of CDK Pipelines and the smoke-test role: ${INLINE}`,
    },
    {
      id: `${pack}-S3BucketReplicationEnabled`,
      path: /(^|\/)(Artifacts|AccessLogs)\/Resource$/,
      runs: ['reference-pipeline'],
      reason: 'Pipeline artifacts are build outputs that the pipeline recreates from the repository on every run (expired after 90 days), and access logs of that bucket; cross-region replication would add a second region and key for data that is not a record of anything.',
    },
    {
      id: `${pack}-S3DefaultEncryptionKMS`,
      path: '**/AccessLogs/Resource',
      runs: ['reference-pipeline'],
      reason: 'S3 server access log delivery writes only to buckets with SSE-S3 default encryption; this bucket holds request metadata of the artifact bucket (security.md, static item 4).',
    },
    {
      id: `${pack}-LambdaConcurrency`,
      path: /(^|\/)(Dev|Prod)\/[^/]+\/Predict\/Function\/Resource$/,
      runs: ['reference-pipeline'],
      reason: 'Reserved concurrency is opt-in (reservedConcurrency): accounts with the default quota of 10 cannot reserve any. The stage throttling and the WAF rate rule bound the invocation rate (same as serverless-model-endpoint-minimal).',
    },
    {
      id: `${pack}-LambdaInsideVPC`,
      path: /(^|\/)(Dev|Prod)\/[^/]+\/Predict\/Function\/Resource$/,
      runs: ['reference-pipeline'],
      reason: 'Outside a VPC by default: the model endpoint reads one object from S3 at init; a VPC would add cold-start time and no isolation (same as serverless-model-endpoint-minimal).',
    },
    {
      id: `${pack}-CloudWatchAlarmAction`,
      path: /(^|\/)(Dev|Prod)\/[^/]+\/Predict\/(ErrorsAlarm|LatencyAlarm)\/Resource$/,
      runs: ['reference-pipeline'],
      reason: 'These alarms gate rollouts: CodeDeploy polls them and rolls back on ALARM, which needs no alarm action (same as serverless-model-endpoint-minimal).',
    },
  ]),
  {
    id: 'HIPAA.Security-CodeBuildProjectSourceRepoUrl',
    path: /(^|\/)Pipeline\/(Pipeline\/[^/]+\/[^/]+\/(CdkBuildProject|SmokeTest)|UpdatePipeline\/SelfMutation|Assets\/FileAsset\d+)\/Resource$/,
    runs: ['reference-pipeline'],
    reason: 'The rule asks GitHub/Bitbucket sources of CodeBuild to use OAuth; these projects have source type CODEPIPELINE (input artifacts from the pipeline) and no repository of their own. The repository is reached only by the pipeline\'s source action through a CodeConnections connection, with no credentials in any project.',
  },
];

/** Categories that security.md says are never acknowledged. */
export enum NeverAcknowledgedCategory {
  ENCRYPTION_AT_REST = 'encryption at rest',
  TLS_ONLY = 'TLS-only / encryption in transit',
  PUBLIC_ACCESS = 'public access',
  KEY_ROTATION = 'key rotation',
  API_AUTHORIZATION = 'API authorization',
  REQUEST_VALIDATION = 'request validation',
  ADMIN_OR_FULL_ACCESS_IAM = 'admin/full-access IAM',
}

/**
 * A rule that may never be acknowledged.
 *
 * A string is a base rule id: it forbids that id and every granular finding of it
 * (`AwsSolutions-IAM4` forbids `AwsSolutions-IAM4[Policy::...]`). A RegExp is tested against the
 * full acknowledgment id, for rules where only some granular findings are forbidden.
 */
export interface NeverAcknowledgedRule {
  readonly rule: string | RegExp;
  readonly category: NeverAcknowledgedCategory;
  /**
   * The one kind of construct path where security.md itself sanctions an exception (an
   * acknowledgment whose path is a string matching this RegExp is allowed), with its reason.
   *
   * @default - no exception
   */
  readonly exceptAt?: { readonly path: RegExp; readonly because: string };
}

/**
 * Server access logs: S3 log delivery writes only to buckets with SSE-S3 default encryption
 * (security.md, static item 4). The library names its access-log buckets `AccessLogs`.
 */
const ACCESS_LOG_BUCKET_EXCEPTION = {
  path: /(^|\/)AccessLogs\/Resource$/,
  because: 'S3 server access log delivery supports SSE-S3 only (security.md, static item 4)',
};

/** The three compliance packs share rule names; expand one name into all three pack ids. */
function compliancePacks(...ruleNames: string[]): string[] {
  return ruleNames.flatMap((r) => [`HIPAA.Security-${r}`, `NIST.800.53.R5-${r}`, `PCI.DSS.321-${r}`]);
}

function rules(category: NeverAcknowledgedCategory, ...ids: Array<string | RegExp | NeverAcknowledgedRule>): NeverAcknowledgedRule[] {
  return ids.map((rule) => (typeof rule === 'string' || rule instanceof RegExp ? { rule, category } : rule));
}

/**
 * Rule ids (cdk-nag 3.0.2 packs AwsSolutions, HIPAA.Security, NIST.800.53.R5, PCI.DSS.321, and
 * the aws-cdk-lib CloudFormation validator) that fall in a never-acknowledged category.
 *
 * A rule missing from a pack is harmless here; a test checks every cdk-nag id below exists in
 * the installed packs, so a typo or a renamed rule fails loudly.
 */
export const NEVER_ACKNOWLEDGED: readonly NeverAcknowledgedRule[] = [
  ...rules(NeverAcknowledgedCategory.ENCRYPTION_AT_REST,
    'AwsSolutions-AEC3', // ElastiCache Redis: in transit and at rest
    'AwsSolutions-CB4',
    'AwsSolutions-DDB4',
    'AwsSolutions-DOC1',
    'AwsSolutions-EC26',
    'AwsSolutions-EFS1',
    'AwsSolutions-EMR4',
    'AwsSolutions-GL1',
    'AwsSolutions-GL3',
    'AwsSolutions-KDF1',
    'AwsSolutions-KDS1',
    'AwsSolutions-LEX4',
    'AwsSolutions-N4',
    'AwsSolutions-OS8',
    'AwsSolutions-RDS2',
    'AwsSolutions-RS6',
    'AwsSolutions-SM2',
    'AwsSolutions-SQS2',
    'AwsSolutions-TS3',
    ...compliancePacks('S3DefaultEncryptionKMS').map((rule) => ({
      rule,
      category: NeverAcknowledgedCategory.ENCRYPTION_AT_REST,
      exceptAt: ACCESS_LOG_BUCKET_EXCEPTION,
    })),
    ...compliancePacks(
      'CloudTrailEncryptionEnabled',
      'CloudWatchLogGroupEncrypted',
      'EFSEncrypted',
      'OpenSearchEncryptedAtRest',
      'RDSStorageEncrypted',
      'RedshiftClusterConfiguration', // encryption or audit logging
      'SageMakerEndpointConfigurationKMSKeyConfigured',
      'SageMakerNotebookInstanceKMSKeyConfigured',
      'SecretsManagerUsingKMSKey',
      'SNSEncryptedKMS',
    ),
    'CloudFormation-Validate::W9008', // RDS instance should have StorageEncrypted
  ),
  ...rules(NeverAcknowledgedCategory.TLS_ONLY,
    'AwsSolutions-CFR4',
    'AwsSolutions-CFR5',
    'AwsSolutions-ELB5',
    'AwsSolutions-EMR5',
    'AwsSolutions-MS3',
    'AwsSolutions-MSK2',
    'AwsSolutions-MSK3',
    'AwsSolutions-OS2',
    'AwsSolutions-QS1',
    'AwsSolutions-RS1',
    'AwsSolutions-S10',
    'AwsSolutions-SNS3',
    'AwsSolutions-SQS4',
    ...compliancePacks(
      'ALBHttpToHttpsRedirection',
      // Not here: APIGWSSLEnabled. It asks for a client certificate that API Gateway presents to
      // HTTP backends (mutual TLS towards the integration); it is not about TLS to clients, which
      // API Gateway always enforces. Lambda integrations never see such a certificate.
      'ELBTlsHttpsListenersOnly',
      'OpenSearchNodeToNodeEncryption',
      'RedshiftRequireTlsSSL',
      'S3BucketSSLRequestsOnly',
    ),
  ),
  ...rules(NeverAcknowledgedCategory.PUBLIC_ACCESS,
    'AwsSolutions-COG7', // identity pool with unauthenticated logins
    'AwsSolutions-EC23',
    'AwsSolutions-ECR1',
    'AwsSolutions-EKS1',
    'AwsSolutions-EVB1',
    'AwsSolutions-OS3',
    'AwsSolutions-OS5',
    'AwsSolutions-RDS8',
    'AwsSolutions-RS8',
    'AwsSolutions-S2',
    'AwsSolutions-S5',
    'AwsSolutions-SM3',
    ...compliancePacks(
      'AutoScalingLaunchConfigPublicIpDisabled',
      'DMSReplicationNotPublic',
      'EC2InstanceNoPublicIp',
      'EC2RestrictedCommonPorts',
      'EC2RestrictedSSH',
      'LambdaFunctionPublicAccessProhibited',
      'OpenSearchInVPCOnly',
      'RDSInstancePublicAccess',
      'RedshiftClusterPublicAccess',
      'S3BucketLevelPublicAccessProhibited',
      'S3BucketPublicReadProhibited',
      'S3BucketPublicWriteProhibited',
      'SageMakerNotebookNoDirectInternetAccess',
    ),
    'CloudFormation-Validate::W2508', // security group open to the world on a sensitive port
    'CloudFormation-Validate::W9011', // RDS instance PubliclyAccessible
  ),
  ...rules(NeverAcknowledgedCategory.KEY_ROTATION,
    'AwsSolutions-KMS5',
    'NIST.800.53.R5-KMSBackingKeyRotationEnabled',
    'PCI.DSS.321-KMSBackingKeyRotationEnabled',
  ),
  ...rules(NeverAcknowledgedCategory.API_AUTHORIZATION,
    'AwsSolutions-APIG4',
    'AwsSolutions-COG4',
  ),
  ...rules(NeverAcknowledgedCategory.REQUEST_VALIDATION,
    'AwsSolutions-APIG2',
  ),
  ...rules(NeverAcknowledgedCategory.ADMIN_OR_FULL_ACCESS_IAM,
    'AwsSolutions-IAM4', // AWS-managed policies
    /^AwsSolutions-IAM5\[Action::(?:\*|[A-Za-z0-9-]+:\*)\]$/, // `*` or `service:*` actions
    ...compliancePacks(
      'IAMPolicyNoStatementsWithAdminAccess',
      'IAMPolicyNoStatementsWithFullAccess',
    ),
  ),
];
