import { Aspects, Aws, IAspect, Stack, Token, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The reviewed acknowledgments the constructs ship: each construct acknowledges, on its own
 * resources only, the cdk-nag findings that were reviewed and accepted, each with its written
 * reason, so that a user's own cdk-nag run shows zero unacknowledged findings on our resources
 * and records why (`aws:cdk:acknowledged-rules` metadata in the cloud assembly, and with cdk-nag's
 * `writeSuppressionsToCloudFormation` in the template's `cdk_nag` metadata).
 *
 * Rules:
 * - An entry names the construct path below the acknowledging construct (`at`, anchored RegExp),
 *   the exact finding ids and a reason. cdk-nag matches ids exactly; granular IAM5 ids name the
 *   wildcard resource as cdk-nag renders it, so ids may embed tokens (`${bucket.bucketArn}/x/*`)
 *   which are rendered at synth the way cdk-nag renders policy resources.
 * - Findings that depend on a prop (VPC, reserved concurrency, alarm actions) are acknowledged
 *   only while that prop is unset, and their reasons name the prop.
 * - Never acknowledged: encryption at rest, TLS-only, public access, key rotation, API
 *   authorization, request validation, admin or full-access IAM (the test suite checks every id
 *   shipped here against that list), and no CloudFormation-validator rule (aws-cdk-lib suppresses
 *   validator rules app-wide by id, which would hide a user's own findings).
 * - The test suite reads these same entries: a shipped acknowledgment that no finding needs fails
 *   the tests (stale), and so does any acknowledgment in src/ made outside this file.
 *
 * @internal
 */
export interface ReviewedAcknowledgment {
  /** Construct path below the acknowledging construct (`Handler/Resource`), anchored. */
  readonly at: RegExp;
  /** Finding ids, exactly as cdk-nag reports them; may embed tokens (rendered at synth). */
  readonly ids: readonly string[];
  /** Why the finding is acceptable, written for an auditor. */
  readonly reason: string;
}

/** The five cdk-nag packs' ids for the rules that HIPAA.Security and NIST.800.53.R5 share. */
export function compliance(...rules: string[]): string[] {
  return rules.flatMap((r) => [`HIPAA.Security-${r}`, `NIST.800.53.R5-${r}`]);
}

/** A granular IAM5 id for a wildcard resource (a string that may hold tokens). */
export function iam5Resource(resource: string): string {
  return `AwsSolutions-IAM5[Resource::${resource}]`;
}

/**
 * Apply reviewed acknowledgments to the children of `scope` (at synth, through an aspect, so
 * children created after the constructor are covered too).
 *
 * @internal
 */
export function acknowledgeReviewed(scope: IConstruct, entries: readonly ReviewedAcknowledgment[]): void {
  if (entries.length === 0) return;
  Aspects.of(scope).add(new AcknowledgeReviewed(scope, entries));
}

class AcknowledgeReviewed implements IAspect {
  private readonly prefix: string;
  private readonly done = new Set<IConstruct>();

  constructor(scope: IConstruct, private readonly entries: readonly ReviewedAcknowledgment[]) {
    this.prefix = scope.node.path === '' ? '' : `${scope.node.path}/`;
  }

  public visit(node: IConstruct): void {
    if (this.done.has(node) || !node.node.path.startsWith(this.prefix)) return;
    this.done.add(node);
    const relative = node.node.path.slice(this.prefix.length);
    for (const entry of this.entries) {
      if (!entry.at.test(relative)) continue;
      for (const id of entry.ids) acknowledge(node, renderId(node, id), entry.reason);
    }
  }
}

/**
 * Record one acknowledgment as the metadata entry cdk-nag reads (`aws:cdk:acknowledged-rules`,
 * key `Annotation::<id>`, which cdk-nag matches without its prefix), on this construct only.
 *
 * Not through `Validations.acknowledge`: aws-cdk-lib also suppresses, app-wide, every violation
 * whose rule name equals an acknowledged id verbatim (granular cdk-nag ids such as
 * `AwsSolutions-IAM5[Resource::*]` are such names), which would hide the same finding on the
 * user's own resources. The prefixed key is read by cdk-nag on this construct and its children
 * only. test/users-seat.test.ts proves the user's findings stay visible.
 */
function acknowledge(node: IConstruct, id: string, reason: string): void {
  node.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [`Annotation::${id}`]: reason });
}

/** An id with tokens, rendered the way cdk-nag renders a resolved policy resource. */
function renderId(node: IConstruct, id: string): string {
  if (!Token.isUnresolved(id)) return id;
  return flattenCfnReference(Stack.of(node).resolve(id));
}

/**
 * cdk-nag's rendering of a CloudFormation value into the text of a granular finding id
 * (`<Logical.Arn>`, `<AWS::Region>`, Fn::Join joined, anything else as JSON). Written here
 * because cdk-nag is the user's tool, not a dependency of the library, and finding ids must match
 * its rendering character for character (cdk-nag 3: utils/flatten-cfn-reference).
 */
function flattenCfnReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const o = value as Record<string, any>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
    return items.map(flattenCfnReference).join(delimiter);
  }
  if (o['Fn::Sub']) return flattenCfnReference(o['Fn::Sub']);
  if (o['Fn::GetAtt']) {
    const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenCfnReference(resource)}.${flattenCfnReference(attribute)}>`;
  }
  if (o['Fn::ImportValue']) return flattenCfnReference(o['Fn::ImportValue']);
  if (o.Ref) return `<${flattenCfnReference(o.Ref)}>`;
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Reasons (one place to review them)
// ---------------------------------------------------------------------------------------------

/** @internal */
export const REASON = {
  inlinePolicy: 'Customer-managed policies are reusable across principals; CDK grants write the role\'s own policy, attached to exactly this role and to nothing else, which is the narrower scope the rule is after.',
  xray: 'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) and, in a VPC, the ENI actions have no resource-level permissions.',
  stateMachineLogsAndTracing: 'Step Functions log delivery (logs:CreateLogDelivery and related) and X-Ray (xray:PutTraceSegments, GetSamplingRules) have no resource-level permissions; aws-cdk-lib adds exactly these for logging and tracing.',
  lambdaVersions: 'The Lambda task may invoke versions and aliases of its one function (<function arn>:<qualifier>); aws-cdk-lib\'s LambdaInvoke grants the function and its qualified ARNs, nothing else.',
  replication: 'Cross-region replication needs a destination bucket and key in a second region, which a single-region construct cannot create; it is the deployer\'s disaster-recovery decision. In-region, versioning, noncurrent-version retention, optional object lock (objectLock) and RETAIN protect against loss.',
  accessLogSse: 'S3 server access log delivery writes only to buckets with SSE-S3 default encryption; the access-log bucket holds request metadata, never record contents.',
  apiExecutionLogs: 'API Gateway creates one execution log group per API and stage, named API-Gateway-Execution-Logs_<apiId>/<stage>; the account-level role must cover that name pattern (and only it).',
  apiCache: 'Caching is off on purpose: responses carry short-lived, caller-specific signed upload grants, review items or predictions on personal data, which must not be cached.',
  apiBackendCertificate: 'The rule asks for a client certificate that API Gateway presents to HTTP backends; the only integrations are Lambda, invoked over TLS with SigV4, where a client certificate is never used. Client TLS is enforced by API Gateway.',
  syncLambdaDlq: 'Invoked synchronously (API Gateway, Step Functions tasks with Retry/Catch); a dead-letter queue only applies to asynchronous invocations. Failures return an error to the caller and appear in metrics and alarms.',
  sqsLambdaDlq: 'Never invoked asynchronously: polled from an SQS queue whose redrive policy moves failed messages to a dead-letter queue (alarmed). A Lambda DLQ only applies to asynchronous invocations.',
  concurrency: 'Reserved concurrency is opt-in (reservedConcurrency prop): accounts with the default quota of 10 cannot reserve any. API stage throttling, the WAF rate rule and SQS event-source scaling bound the invocation rate.',
  vpc: 'Outside a VPC by default: the function calls only AWS APIs over TLS with IAM, and a VPC would need an endpoint for each. Opt in with the vpc prop.',
  alarmAction: 'Notification targets are the deployer\'s choice (alarmAction prop); the alarm exists and shows in the console either way.',
  rolloutAlarm: 'This alarm gates rollouts: CodeDeploy polls it and rolls back on ALARM, which needs no alarm action. Add notifications with the alarmAction prop.',
  deploymentVersions: 'CodeDeploy reads and moves the live alias between the function\'s versions; versions and aliases are qualified ARNs of this one function (<function arn>:<qualifier>), created by every deployment.',
  uploadsPrefix: 'Object-level permission under the upload prefix of the raw zone: object keys are created per upload (caller folder, date, random id) and cannot be enumerated in advance; the presigned POST policy pins each exact key.',
  pipelinePrefix: 'Object-level permissions under one prefix of one zone (uploads, records, labels, quarantine, datasets): object keys are content-derived record ids, source hashes and version names created at run time, so they cannot be enumerated in advance. Each role gets only the prefixes and actions its handler uses (no delete, no listing).',
  customLabeler: 'grantInvoke on a user\'s function labeler covers that one function\'s qualified ARNs (versions, aliases).',
  distributedMap: 'A Distributed Map runs its batches as child executions of its own state machine, whose names Step Functions generates; aws-cdk-lib scopes describe/stop/redrive to executions of this one state machine.',
  eventSourceDestination: 'On-failure destinations apply to stream and Kafka event sources only; for SQS the queue\'s redrive policy moves a message that failed maxReceiveCount times to the dead-letter queue (alarmed).',
  isDeadLetterQueue: 'This queue IS a dead-letter queue: EventBridge rule targets name it as their deadLetterQueue, which the rule cannot see because it only recognises SQS redrive policies. It is terminal and alarmed.',
  terminalDeadLetterQueue: 'Terminal dead-letter queue: it holds what failed for an operator to inspect and redrive; a dead-letter queue of a dead-letter queue would only move the problem.',
  trainingDatasets: 'Read-only (s3:GetObject, GetObjectVersion, kms:Decrypt) on the dataset versions of the curated zone, <prefix>datasets/<version>/<file>: versions are published by the labeling pipeline after deployment and named then, so they cannot be enumerated; each execution trains on the one version it names (validated against this prefix by the state machine). s3:ListBucket is limited to the same prefix by an s3:prefix condition.',
  trainingOutput: 'SageMaker writes each job\'s model.tar.gz under <output path>/<training job name>/output/, and job names are created per execution; write (PutObject, multipart) only, under this model\'s output prefix of the models zone.',
  trainingLogs: 'SageMaker training containers log to streams <job name>/algo-<n>-<timestamp> of the fixed log group /aws/sagemaker/TrainingJobs, created per job; only that group\'s streams.',
  trainingNoResource: 'ecr:GetAuthorizationToken and the ENI describe actions (in a VPC) have no resource-level permissions; cloudwatch:PutMetricData has none either and is limited to the /aws/sagemaker/TrainingJobs namespace by a cloudwatch:namespace condition.',
  trainingCheckpoints: 'Spot training syncs /opt/ml/checkpoints with <model>/checkpoints/<training job name>/ (read and write, no delete), and job names are created per execution; listing is limited to the same prefix by an s3:prefix condition.',
  trainingEnis: 'In a VPC, SageMaker creates and deletes the training instances\' network interfaces with this role; their ids are created per job. ec2:CreateNetworkInterface is also limited to the job\'s security group and subnets.',
  trainingJobs: 'Create, describe and stop training jobs whose names start with this model\'s prefix; each execution creates one job named <model>-<hash of the execution id>, which cannot be enumerated in advance.',
  modelPackages: 'sagemaker:CreateModelPackage of new versions in this model\'s package group; the registry numbers versions (<group>/<n>) as they are created.',
  modelRecords: 'Write (PutObject) of one model record per training job, <model>/records/<training job name>.json, named per execution; no read, no delete.',
  datasetCards: 'Read-only (s3:GetObject; kms:Decrypt through S3) of the dataset cards, <prefix>datasets/<version>/dataset-card.json: before training, the state machine checks that the card of the version it was asked to train on says the version was published (an event may be forged). Versions are named when the labeling pipeline publishes them, so they cannot be enumerated; only the card file of each version is readable.',
  modelConsumer: 'A model consumer (grantReadModels) reads the artifacts and records of this one model, named per training job; read-only, one prefix of the models zone.',
  publishModelArchives: 'The PublishModel function reads (s3:GetObject, kms:Decrypt through S3) the model.tar.gz of each training job of this model, <model>/training-jobs/<training job name>/output/model.tar.gz; job names are created per execution. Read-only, one prefix of the models zone.',
  publishedModels: 'The PublishModel function writes each trained model\'s ONNX file once (PutObject with If-None-Match, no delete) at <model>/models/<training job name>/model.onnx, named per execution, and reads it back only to tell a retry of the same job from a conflict. One prefix of this model in the models zone.',
  publishedBaselines: 'The PublishModel function writes drift baselines once (PutObject with If-None-Match, no delete) at monitoring/baselines/<model sha256>.json: content-addressed by the model file\'s SHA-256, known only after training; it reads one back only to compare it with its own. Only the baselines folder of the models zone.',
  trainingLineage: 'The PublishModel function writes (PutObject with If-None-Match; no read, no listing, no delete) the training run\'s OpenLineage event and its index objects under lineage/ of the curated zone (lineage/events/date=<d>/<run id>-COMPLETE.json, lineage/index/...): run ids, dates and the dataset and model names in the index keys are created per training run, so they cannot be enumerated in advance. Only the lineage folder, shared by the lake\'s emitters (src/contract/lineage.ts).',
  publishModelConcurrency: 'Invoked synchronously by the training state machine, once per trained model that passed the gates (after a GPU training job of minutes to days); executions are bounded by training runs. Reserving concurrency would take from the account\'s pool (10 by default) for a function that runs a few times a day at most.',
  capturePrefix: 'The capture writer puts (s3:PutObject, no read, no delete) JSON Lines objects under its endpoint\'s capture prefix of the models zone, monitoring/captures/endpoint=<name>/model=<version>/date=<d>/hour=<h>/<id>.jsonl: model versions, hours and object ids are known only when predictions are captured, so they cannot be enumerated in advance.',
  captureWriterConcurrency: 'The capture writer is invoked asynchronously by a CloudWatch Logs subscription, which batches log events and bounds its deliveries; a capture it cannot write is retried and then kept in its dead-letter queue (alarmed). Reserving concurrency would take from the account\'s pool (10 by default) for a function that is never on the request path.',
  asyncDeadLetterQueue: 'Failed asynchronous invocations (after Lambda\'s two retries) go to the function\'s dead-letter queue (DeadLetterConfig, KMS-encrypted, alarmed), with the error code and message as message attributes; an on-failure destination would deliver the same payloads a second time.',
  lambdaDeadLetterQueue: 'This queue IS a dead-letter queue: the capture writer function names it in its DeadLetterConfig (asynchronous invocations that failed their retries), which the rule cannot see because it only recognises SQS redrive policies. It is terminal and alarmed.',
  customResourceDlq: 'A CloudFormation custom resource handler: CloudFormation invokes it for each stack operation and waits for its answer on the presigned response URL; a failure is answered FAILED and rolls the stack operation back, and an invocation that is lost times the operation out. A dead-letter queue would hold nothing anyone acts on.',
  customResourceIsolation: 'Runs only when CloudFormation deploys the construct (once per stack operation), calls only S3 over TLS with IAM, and touches no record data: reserved concurrency and a VPC would add quota use and S3 endpoints for nothing.',
  cloudFrontWaf: 'A CloudFront web ACL lives in us-east-1 and is the deployer\'s (webAclArn prop); the console serves only its static files, and every API call it makes goes to the review API, which has its own regional web ACL, authorizer and throttling.',
  cloudFrontGeo: 'Where reviewers work is the deployer\'s decision (allowedCountries prop); the console\'s files hold no data, and sign-in and the review API decide who gets any.',
  promotionCandidates: 'A model promotion\'s candidate check reads (s3:GetObject, GetObjectVersion, kms:Decrypt through S3) the model records <model>/records/<training job>.json and the models <model>/models/<training job>/model.onnx of its one model, named per training job; read-only, no listing, no delete.',
  promotionBaselines: 'A model promotion\'s candidate check reads (read-only) the drift baselines monitoring/baselines/<model sha256>.json, content-addressed by the SHA-256 of models trained after deployment, so they cannot be enumerated.',
  promotionServing: 'A ModelPromotion lets the endpoint function it promotes to read (s3:GetObject, GetObjectVersion, kms:Decrypt through S3) the published models of its one model, <model>/models/<training job>/model.onnx, named per training job after deployment; the function downloads the promoted model once per execution environment and checks its SHA-256.',
  promotionRetry: 'A model promotion\'s candidate check may describe (states:DescribeExecution, read-only) the executions of its own state machine, <state machine>:<execution name>, named per run: an operator\'s retry of a version names the execution that claimed it, and the check takes the claim over only when that execution ended without promoting.',
  promotionRecords: 'A model promotion writes (PutObject, no delete) the claim, approval request and audit records of its one model\'s versions under monitoring/promotions/model=<model>%40<version>/, named per model version and time; the candidate check reads only the claims, the approval handler only the approval requests.',
  promotionLineage: 'A model promotion\'s lineage function writes (PutObject, no read, no delete; kms:GenerateDataKey through S3) the promotion\'s OpenLineage event and its index objects under lineage/ in the lake\'s curated zone (src/contract/lineage.ts): keys carry event dates, run ids and dataset names known only at run time, and each object is written once (If-None-Match). Only this function of the promotion may write there.',
  monitorPrefixes: 'The ModelMonitor drift job reads (s3:GetObject, GetObjectVersion; kms:Decrypt through S3) its endpoint\'s captures (monitoring/captures/endpoint=<name>/model=<version>/date=<d>/hour=<h>/<id>.jsonl) and ground truth (monitoring/ground-truth/endpoint=<name>/date=<d>/<id>.jsonl) and the drift baselines (monitoring/baselines/<model sha256>.json), and writes (PutObject, no read, no delete) its reports (monitoring/reports/endpoint=<name>/<window end>/drift-report.*): model versions, hours, object ids, model hashes and windows are known only at run time. s3:ListBucket is limited to the same three read prefixes by s3:prefix conditions.',
  monitorDeadLetterQueue: 'This queue IS a dead-letter queue: the drift job names it in its DeadLetterConfig (scheduled runs that failed their retries), which the rules cannot see because they only recognise SQS redrive policies. It is terminal; the failure alarm watches the job\'s errors.',
  monitorAsyncFailure: 'A drift run that failed Lambda\'s two retries goes to the drift job\'s dead-letter queue (DeadLetterConfig, KMS-encrypted), with the error as message attributes; an on-failure destination would deliver the same event a second time. The failure alarm watches the job\'s errors, and any window can be rerun by hand.',
  monitorConcurrency: 'The drift job runs once per schedule (daily by default) and by hand; EventBridge invokes it one run at a time per schedule. Reserving concurrency would take from the account\'s pool (10 by default) for a function that runs a few times a day; set reservedConcurrency to reserve it.',
} as const;

// ---------------------------------------------------------------------------------------------
// Shared by the constructs that serve a REST route (src/private/api-route.ts)
// ---------------------------------------------------------------------------------------------

/** What the acknowledgments of one API route depend on. @internal */
export interface ApiRouteAcknowledgmentOptions {
  /** Path of the handler function's L1 below the construct (`Handler/Resource`). */
  readonly handler: RegExp;
  /** Path of the handler's role policy below the construct. */
  readonly handlerPolicy: RegExp;
  /** The user's reserved concurrency, if any. */
  readonly reservedConcurrency?: number;
  /** Whether the handler runs in the user's VPC. */
  readonly inVpc: boolean;
}

/**
 * The REST API (when the construct created it), its account-level CloudWatch role, and one
 * synchronous handler behind it.
 *
 * @internal
 */
export function apiRouteAcknowledgments(scope: IConstruct, options: ApiRouteAcknowledgmentOptions): ReviewedAcknowledgment[] {
  const stack = Stack.of(scope);
  const entries: ReviewedAcknowledgment[] = [
    { at: options.handlerPolicy, ids: [iam5Resource('*')], reason: REASON.xray },
    { at: options.handlerPolicy, ids: compliance('IAMNoInlinePolicy'), reason: REASON.inlinePolicy },
    {
      at: /(^|\/)CloudWatchRole\/DefaultPolicy\/Resource$/,
      ids: [iam5Resource(`arn:${Aws.PARTITION}:logs:${stack.region}:${stack.account}:log-group:API-Gateway-Execution-Logs_*`)],
      reason: REASON.apiExecutionLogs,
    },
    { at: /(^|\/)CloudWatchRole\/DefaultPolicy\/Resource$/, ids: compliance('IAMNoInlinePolicy'), reason: REASON.inlinePolicy },
    { at: /(^|\/)Api\/DeploymentStage\.v1\/Resource$/, ids: compliance('APIGWCacheEnabledAndEncrypted'), reason: REASON.apiCache },
    { at: /(^|\/)Api\/DeploymentStage\.v1\/Resource$/, ids: compliance('APIGWSSLEnabled'), reason: REASON.apiBackendCertificate },
    { at: options.handler, ids: [...compliance('LambdaDLQ'), 'Serverless-LambdaDLQ'], reason: REASON.syncLambdaDlq },
  ];
  if (options.reservedConcurrency === undefined) entries.push({ at: options.handler, ids: compliance('LambdaConcurrency'), reason: REASON.concurrency });
  if (!options.inVpc) entries.push({ at: options.handler, ids: compliance('LambdaInsideVPC'), reason: REASON.vpc });
  return entries;
}
