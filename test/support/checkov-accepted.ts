/**
 * THE reviewed list of checkov checks that may fail on our synthesized templates, each with a
 * written reason. `checkovReport()` (./template-scanners.ts) moves the failed checks an entry
 * covers out of `failed` into `accepted`, and lists entries that matched nothing in
 * `unusedAcceptances` so stale entries can be removed.
 *
 * Rules for adding an entry:
 *   - Fix first. Add an entry only when the check cannot or should not pass, and say why in
 *     words an auditor can follow (what the check wants, why it does not apply, what covers the
 *     risk instead).
 *   - Scope it as narrowly as possible with `path` (construct path glob from the
 *     `aws:cdk:path` metadata, e.g. `'LakeStack/Lake/AccessLogs/Resource'`; `*` matches within one
 *     path segment, a double star any number of segments) and/or `resourceType`. An entry without `path` accepts the
 *     check on every resource of every scanned template.
 *   - Checks in CHECKOV_NEVER_ACCEPTED below cannot be listed (validateAcceptances() throws);
 *     they mirror the never-acknowledged categories of docs/security.md (static item 1) and of
 *     NEVER_ACKNOWLEDGED in ./acknowledgments.ts: encryption at rest, TLS-only, public access, key
 *     rotation, API authorization, request validation, admin/full-access IAM.
 *   - Do not suppress checks inside templates (`Metadata: { checkov: { skip: [...] } }`): they
 *     are reported in `skippedInTemplate` and bypass this review.
 */

export interface CheckovAcceptance {
  /** The checkov check id, e.g. `CKV_AWS_117`. */
  readonly id: string;
  /** Why the failure is acceptable. Written for an auditor; at least a full sentence. */
  readonly reason: string;
  /** Construct path glob(s) (aws:cdk:path metadata) or RegExp the entry is limited to. */
  readonly path?: string | RegExp | ReadonlyArray<string | RegExp>;
  /** CloudFormation resource type the entry is limited to, e.g. `AWS::S3::Bucket`. */
  readonly resourceType?: string;
}

/**
 * Accepted failing checks, each reviewed against the real finding.
 */
export const CHECKOV_ACCEPTED: readonly CheckovAcceptance[] = [
  {
    id: 'CKV_AWS_116',
    path: '**/PublishModel/Resource',
    reason: 'The GpuTrainingJob\'s PublishModel function is invoked synchronously by the training state machine (Retry and Catch); a dead-letter queue only applies to asynchronous invocations. A failure ends the execution with a "Training Failed" event and the failure alarm.',
  },
  {
    id: 'CKV_AWS_117',
    path: '**/PublishModel/Resource',
    reason: 'The GpuTrainingJob\'s PublishModel function runs outside a VPC unless the job\'s vpc prop is set (then it runs in the training VPC): it calls only S3 over TLS with IAM, and a VPC would need an S3 endpoint.',
  },
  {
    id: 'CKV_AWS_115',
    path: '**/PublishModel/Resource',
    reason: 'The GpuTrainingJob\'s PublishModel function runs once per trained model that passed the gates (after a GPU training job); reserving concurrency would take from the account\'s pool (10 by default) for a function that runs a few times a day at most.',
  },
  {
    id: 'CKV_AWS_173',
    path: '**/PublishModel/Resource',
    reason: 'The PublishModel function\'s environment holds configuration only (the models and curated bucket names, the lake key ARN, the model name, file names and a size limit), never secrets or personal data; Lambda encrypts it at rest with an AWS-owned key.',
  },
  {
    id: 'CKV_AWS_111',
    path: '**/PublishModelRole/DefaultPolicy/Resource',
    reason: 'The only write statements without resource constraints are X-Ray\'s (xray:PutTraceSegments, PutTelemetryRecords) and, in a VPC, the ENI actions, none of which have resource-level permissions; the function\'s S3 writes are scoped to its model\'s published models, the baselines folder and the curated zone\'s lineage/ folder (the training run\'s lineage event).',
  },
  {
    id: 'CKV_AWS_117',
    path: '**/DriftJob/Resource',
    reason: 'The ModelMonitor drift job runs outside a VPC by default: it calls only S3 and EventBridge over TLS with IAM, and a VPC would need an endpoint for each; the vpc prop opts in where policy requires it.',
  },
  {
    id: 'CKV_AWS_115',
    path: '**/DriftJob/Resource',
    reason: 'Reserved concurrency of the ModelMonitor drift job is opt-in (reservedConcurrency): it runs once per schedule, and accounts with the default quota of 10 cannot reserve any.',
  },
  {
    id: 'CKV_AWS_173',
    path: '**/DriftJob/Resource',
    reason: 'The drift job\'s environment holds configuration only (the models bucket name, the lake key ARN, the bus name, the service name), never secrets or personal data; Lambda encrypts it at rest with an AWS-owned key.',
  },
  {
    id: 'CKV_AWS_111',
    path: '**/DriftJobRole/DefaultPolicy/Resource',
    reason: 'The only write statements without resource constraints are X-Ray\'s (xray:PutTraceSegments, PutTelemetryRecords) and, in a VPC, the ENI actions, none of which have resource-level permissions; the drift job\'s S3 writes are scoped to its reports prefix, its events to one bus, source and detail type.',
  },
  {
    id: 'CKV_AWS_7',
    path: '**/Lake/PseudonymizationKey/Resource',
    reason: 'KMS cannot rotate HMAC keys automatically, and rotating the pseudonymization key would change every pseudonym and break the linkage of a subject\'s records; the symmetric data key rotates yearly.',
  },
  {
    id: 'CKV_AWS_18',
    path: '**/Lake/AccessLogs/Resource',
    reason: 'The access-log bucket is the terminal destination of the server access logs of every zone; logging it into itself would loop, and logging it elsewhere only moves the problem.',
  },
  {
    id: 'CKV_AWS_67',
    path: '**/Lake/DataEventsTrail/Resource',
    reason: 'This trail records S3 data events of the lake\'s own buckets in their region; account-wide multi-region management trails belong to the account baseline (Control Tower / organization trail), not to a data lake construct.',
  },
  {
    id: 'CKV_AWS_120',
    path: /(^|\/)(Uploads|Predict)\/Api\/DeploymentStage\.v1\/Resource$/,
    reason: 'API caching is off on purpose: responses are caller-specific (signed upload grants, predictions on personal data) and must not be cached (security.md: no API caching of personal data).',
  },
  {
    id: 'CKV_AWS_116',
    path: /(^|\/)(Uploads\/Handler|Predict\/Function)\/Resource$/,
    reason: 'Invoked synchronously by API Gateway; a dead-letter queue only applies to asynchronous invocations. Failures reach the client as 5xx and show in metrics and alarms.',
  },
  {
    id: 'CKV_AWS_117',
    path: /(^|\/)(Uploads\/Handler|Predict\/Function)\/Resource$/,
    reason: 'Outside a VPC by default: the upload handler makes no network calls at all and the model endpoint reads one object from S3 at init; the vpc prop opts in where policy requires it.',
  },
  {
    id: 'CKV_AWS_115',
    path: /(^|\/)(Uploads\/Handler|Predict\/Function)\/Resource$/,
    reason: 'Reserved concurrency is opt-in (reservedConcurrency): accounts with the default quota of 10 cannot reserve any. Stage throttling and the WAF rate rule bound the invocation rate.',
  },
  {
    id: 'CKV_AWS_173',
    path: /(^|\/)(Uploads\/Handler|Predict\/Function)\/Resource$/,
    reason: 'The environment holds configuration only (bucket names, key ARNs, limits, model version), never secrets or personal data; Lambda encrypts it at rest with an AWS-owned key.',
  },
  {
    id: 'CKV_AWS_111',
    path: /(^|\/)(Uploads|Predict)\/HandlerRole\/DefaultPolicy\/Resource$/,
    reason: 'The only write statements without resource constraints are the ENI actions a function in a VPC needs (ec2:CreateNetworkInterface and friends), which have no resource-level permissions; every S3 write is scoped to one prefix of one zone.',
  },
  // ---- LabelingPipeline (child ids fixed by src/labeling-pipeline/labeling-pipeline.ts) -------
  {
    id: 'CKV_AWS_116',
    path: /(^|\/)Hearing\/(Clean|Label|ReviewRecord|Dataset|ReviewApi\/Handler)\/Resource$/,
    reason: 'Never invoked asynchronously: the cleaning and labeling functions are polled from SQS queues whose redrive policies move failed messages to dead-letter queues; the others are invoked synchronously by Step Functions tasks (Retry/Catch) and API Gateway. A Lambda DLQ only applies to asynchronous invocations.',
  },
  {
    id: 'CKV_AWS_117',
    path: /(^|\/)(LabelingMinimal|ReferenceApp|HearingTestApp|ReviewConsoleMinimal|ReviewConsoleMaximal)\/Hearing\/(Clean|Label|ReviewRecord|Dataset|ReviewApi\/Handler)\/Resource$/,
    reason: 'Outside a VPC by default: the handlers call only AWS APIs over TLS with IAM; the vpc prop opts in (the maximal configuration runs them in a VPC).',
  },
  {
    id: 'CKV_AWS_115',
    path: /(^|\/)(LabelingMinimal|ReferenceApp|HearingTestApp|ReviewConsoleMinimal|ReviewConsoleMaximal)\/Hearing\/(Clean|Label|ReviewRecord|Dataset|ReviewApi\/Handler)\/Resource$/,
    reason: 'Reserved concurrency is opt-in (reservedConcurrency, set in the maximal configuration): accounts with the default quota of 10 cannot reserve any. SQS event sources back off on throttling without losing messages.',
  },
  {
    id: 'CKV_AWS_173',
    path: /(^|\/)Hearing\/(Clean|Label|ReviewRecord|Dataset|ReviewApi\/Handler)\/Resource$/,
    reason: 'The environment holds configuration only (bucket and table names, key ARNs, prefixes), never secrets or personal data; Lambda encrypts it at rest with an AWS-owned key.',
  },
  {
    id: 'CKV_AWS_111',
    path: /(^|\/)Hearing\/((Clean|Label|ReviewRecord|Dataset)Role|ReviewApi\/HandlerRole)\/DefaultPolicy\/Resource$/,
    reason: 'The only write statements without resource constraints are X-Ray\'s (xray:PutTraceSegments, PutTelemetryRecords) and, in a VPC, the ENI actions, none of which have resource-level permissions; every S3 write is scoped to one prefix of one zone, every DynamoDB and Step Functions call to one table or state machine.',
  },
  {
    id: 'CKV_AWS_120',
    path: /(^|\/)Hearing\/ReviewApi\/Api\/DeploymentStage\.v1\/Resource$/,
    reason: 'API caching is off on purpose: the review API returns pseudonymized records pending review and accepts labels; such responses must not be cached (security.md: no API caching of personal data).',
  },
  // ---- ReviewConsole (child ids fixed by src/review-console/review-console.ts) ---------------
  {
    id: 'CKV_AWS_18',
    path: '**/ReviewConsole/AccessLogs/Resource',
    reason: 'The console\'s access-log bucket is the terminal destination of the site bucket\'s server access logs and of the distribution\'s standard logs; logging it into itself would loop, and logging it elsewhere only moves the problem.',
  },
  {
    id: 'CKV_AWS_68',
    path: /(^|\/)(ReviewConsoleMinimal|ReferenceApp)\/ReviewConsole\/Distribution\/Resource$/,
    reason: 'A CloudFront web ACL must live in us-east-1 and is the deployer\'s (webAclArn prop, set in the maximal configuration); the distribution serves only the console\'s static files, and every API call goes to the review API, which has its own regional web ACL, authorizer and throttling.',
  },
  {
    id: 'CKV_AWS_116',
    path: '**/ReviewConsole/DeployHandler/Resource',
    reason: 'A CloudFormation custom resource handler: CloudFormation invokes it and waits for its answer on the presigned response URL; a failure is answered FAILED and rolls the stack operation back. A dead-letter queue would hold nothing anyone acts on.',
  },
  {
    id: 'CKV_AWS_117',
    path: '**/ReviewConsole/DeployHandler/Resource',
    reason: 'Runs once per stack operation and calls only S3 over TLS with IAM, copying the console\'s static files; it touches no record data, and a VPC would need an S3 endpoint for nothing.',
  },
  {
    id: 'CKV_AWS_115',
    path: '**/ReviewConsole/DeployHandler/Resource',
    reason: 'Runs only when CloudFormation deploys the console (once per stack operation); reserved concurrency would take from the account quota (default 10) for nothing.',
  },
  {
    id: 'CKV_AWS_173',
    path: '**/ReviewConsole/DeployHandler/Resource',
    reason: 'The environment holds configuration only (the site bucket name and key ARN), never secrets or personal data; Lambda encrypts it at rest with an AWS-owned key.',
  },
  // ---- ModelPromotion (child ids fixed by src/model-promotion/model-promotion.ts) ------------
  {
    id: 'CKV_AWS_116',
    path: /(^|\/)Promotion\/(CheckFunction|ApproveFunction|LineageFunction)\/Resource$/,
    reason: 'Never invoked asynchronously: the candidate check and the lineage recorder are Step Functions tasks (Retry/Catch, every failure audited) and the approval handler answers signed requests on its function URL synchronously. A Lambda DLQ only applies to asynchronous invocations.',
  },
  {
    id: 'CKV_AWS_117',
    path: /(^|\/)Promotion\/(CheckFunction|ApproveFunction|LineageFunction)\/Resource$/,
    reason: 'Outside a VPC by default: the handlers call only S3 and Step Functions over TLS with IAM; the vpc prop opts in (the maximal configuration runs them in a VPC).',
  },
  {
    id: 'CKV_AWS_115',
    path: /(^|\/)Promotion\/(CheckFunction|ApproveFunction|LineageFunction)\/Resource$/,
    reason: 'Reserved concurrency is opt-in (reservedConcurrency, set in the maximal configuration): accounts with the default quota of 10 cannot reserve any. One check and at most one lineage write run per model version.',
  },
  {
    id: 'CKV_AWS_173',
    path: /(^|\/)Promotion\/(CheckFunction|ApproveFunction|LineageFunction)\/Resource$/,
    reason: 'The environment holds configuration only (the models and curated bucket names, the model name, the gates, the lake key ARN, the endpoint\'s lineage name), never secrets or personal data; Lambda encrypts it at rest with an AWS-owned key.',
  },
  {
    id: 'CKV_AWS_111',
    path: /(^|\/)Promotion\/(CheckRole|ApproveRole|LineageRole)\/DefaultPolicy\/Resource$/,
    reason: 'The only write statements without resource constraints are X-Ray\'s (xray:PutTraceSegments, PutTelemetryRecords) and, in a VPC, the ENI actions, none of which have resource-level permissions; the S3 writes are scoped to the claims of one model\'s versions and to lineage/ of the curated zone, the task responses to one state machine.',
  },
  // ---- Reference pipeline (examples/reference-app/pipeline-stack.ts) -------------------------
  {
    id: 'CKV_AWS_18',
    path: 'HearingTestPipeline/AccessLogs/Resource',
    reason: 'The pipeline\'s access-log bucket is the terminal destination of the artifact bucket\'s server access logs; logging it into itself would loop, and logging it elsewhere only moves the problem.',
  },
  {
    id: 'CKV_AWS_111',
    path: '**/Pipeline/Assets/FileRole/DefaultPolicy/Resource',
    reason: 'CDK Pipelines shares one role among all asset-publishing projects (aws-cdk-lib AssetSingletonRole) and grants it codebuild:StartBuild/StopBuild/BatchGetBuilds on * instead of one statement per project; only codebuild.amazonaws.com may assume it. Its data writes are scoped to the artifact bucket and the bootstrap file-publishing roles.',
  },
  {
    id: 'CKV_AWS_117',
    path: '**/CaptureWriter/Resource',
    reason: 'The ServerlessModelEndpoint\'s capture writer runs outside a VPC unless the endpoint\'s vpc prop is set (then it runs in that VPC): it calls only S3 over TLS with IAM, and a VPC would need an S3 endpoint.',
  },
  {
    id: 'CKV_AWS_115',
    path: '**/CaptureWriter/Resource',
    reason: 'The capture writer is invoked asynchronously by a CloudWatch Logs subscription, which batches log events and bounds its deliveries; a capture it cannot write is retried and kept in its dead-letter queue (alarmed). Reserving concurrency would take from the account\'s pool (10 by default) for a function that is never on the request path.',
  },
  {
    id: 'CKV_AWS_173',
    path: '**/CaptureWriter/Resource',
    reason: 'The capture writer\'s environment holds configuration only (the models bucket name, the lake key ARN, the capture name, the service name and metrics namespace), never secrets or personal data; Lambda encrypts it at rest with an AWS-owned key.',
  },
  {
    id: 'CKV_AWS_111',
    path: '**/CaptureWriterRole/DefaultPolicy/Resource',
    reason: 'The only write statements without resource constraints are X-Ray\'s (xray:PutTraceSegments, PutTelemetryRecords) and, in a VPC, the ENI actions, none of which have resource-level permissions; the writer\'s S3 puts are scoped to its endpoint\'s capture prefix of the models zone.',
  },
];

/**
 * Never-accepted checks with the one exception that docs/security.md itself sanctions, limited to a
 * construct path. An acceptance of such a check is allowed only with a string path matching it.
 */
export const CHECKOV_SANCTIONED_EXCEPTIONS: Readonly<Record<string, { readonly path: RegExp; readonly because: string }>> = {
  CKV_AWS_7: { path: /(^|\/)PseudonymizationKey\/Resource$/, because: 'HMAC keys cannot rotate automatically' },
};

/** Checks that may never be accepted, with the security-bar rule each one enforces. */
export const CHECKOV_NEVER_ACCEPTED: Readonly<Record<string, string>> = {
  // encryption at rest
  CKV_AWS_19: 'encryption at rest (S3)',
  CKV_AWS_26: 'encryption at rest (SNS)',
  CKV_AWS_27: 'encryption at rest (SQS)',
  CKV_AWS_119: 'encryption at rest (DynamoDB, customer-managed key)',
  CKV_AWS_136: 'encryption at rest (ECR, KMS)',
  CKV_AWS_158: 'encryption at rest (CloudWatch Logs, KMS)',
  CKV_AWS_187: 'encryption at rest (SageMaker domain/notebook, customer-managed key)',
  CKV_AWS_3: 'encryption at rest (EBS)',
  // key rotation
  CKV_AWS_7: 'key rotation (KMS)',
  // public access
  CKV_AWS_20: 'public access (S3 public READ)',
  CKV_AWS_57: 'public access (S3 public WRITE)',
  CKV_AWS_53: 'public access (S3 block public ACLs)',
  CKV_AWS_54: 'public access (S3 block public policy)',
  CKV_AWS_55: 'public access (S3 ignore public ACLs)',
  CKV_AWS_56: 'public access (S3 restrict public buckets)',
  CKV_AWS_32: 'public access (ECR repository policy)',
  CKV_AWS_33: 'public access (KMS key policy with a wildcard principal)',
  // API authorization
  CKV_AWS_59: 'API authorization (API Gateway method without authorizer)',
  CKV_AWS_258: 'API authorization (Lambda function URL with AuthType NONE)',
  CKV_AWS_366: 'API authorization (Cognito identity pool with unauthenticated access)',
  // admin / full-access IAM
  CKV_AWS_62: 'admin/full-access IAM statement ("*:*")',
  CKV_AWS_63: 'admin/full-access IAM statement (Action "*")',
  CKV_AWS_60: 'admin/full-access IAM (role assumable by any principal)',
  CKV_AWS_61: 'admin/full-access IAM (assume role across all services)',
  CKV_AWS_109: 'admin/full-access IAM (permissions management without constraints)',
  CKV_AWS_110: 'admin/full-access IAM (privilege escalation)',
};
