/**
 * The CI/CD pipeline of the reference app (CDK Pipelines): source → build (tests, security packs,
 * synth) → self-update → assets → Dev (deploy, smoke test) → approval → Prod (deploy, smoke test).
 *
 *   GitHub/GitLab/Bitbucket (CodeStar connection)
 *     └─ Synth: npm ci, `npx projen test:all` (unit tests, cdk-nag packs, CloudFormation
 *        validator, cfn-lint, checkov, type-check, rosetta, Python parity), `cdk synth`
 *          └─ UpdatePipeline (self-mutation) ─ Assets (Lambda zips, the model, images)
 *               └─ Dev: deploy ─ SmokeTest (POST /predict with a known input)
 *                    └─ Prod: ManualApproval ─ deploy ─ SmokeTest
 *
 * The app's stage is plugged in through `appStage`, so the pipeline does not know what it deploys;
 * it needs one thing from it: a `SmokeTestAccess` construct (below) in one of the stage's stacks,
 * which outputs the route's URL and a role the smoke test may assume.
 *
 * How the smoke test authenticates (no passwords, no long-lived secrets):
 *  1. It calls the route WITHOUT credentials and expects 401/403: the route is deployed, the WAF
 *     lets a well-formed request through, and the authorizer is enforced.
 *  2. It assumes the stage's smoke-test role (a fixed name per stage, trusting only the pipeline's
 *     account; cross-account works because the role lives in the stage's account), then
 *     - for a route with IAM authorization (`ApiAuthorization.iam()`): signs the same request with
 *       SigV4 (`awscurl`); the role may call exactly this method (`execute-api:Invoke` on its ARN);
 *     - for a route with Cognito authorization: invokes the endpoint's live alias with the same
 *       body as API Gateway would pass it; the role may invoke exactly that alias. A Cognito user
 *       cannot sign in from a pipeline (the default pool requires TOTP MFA), and a client-credentials
 *       token would need OAuth scopes on the method (which human ID tokens then no longer pass) and
 *       a paid machine-to-machine app client, so the route itself is only probed in step 1.
 *     Either way it checks HTTP 200, a model version, and (for the default input) the class.
 */
import { App, Aws, CfnOutput, Duration, Environment, RemovalPolicy, Stack, StackProps, Stage, StageProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct, IConstruct } from 'constructs';
import { ServerlessModelEndpoint } from '../../src';

/** Where the smoke test finds what it needs: the ids of the CfnOutputs `SmokeTestAccess` defines. */
export const SMOKE_TEST_OUTPUTS = {
  url: 'PredictUrl',
  roleArn: 'SmokeTestRoleArn',
  mode: 'SmokeTestMode',
  target: 'SmokeTestTarget',
} as const;

/**
 * The default smoke-test request: one audiogram with normal hearing (thresholds 5 to 20 dB HL,
 * scaled as the reference model expects: (dB HL - 50) / 50). The reference model answers "normal".
 */
export const DEFAULT_SMOKE_TEST_INPUT = {
  inputs: {
    features: [[-0.8, -0.8, -0.7, -0.8, -0.7, -0.6, -0.9, -0.8, -0.8, -0.7, -0.8, -0.7]],
  },
};
const DEFAULT_SMOKE_TEST_LABEL = 'normal';

/** Properties of `SmokeTestAccess`. */
export interface SmokeTestAccessProps {
  /** The endpoint whose route the smoke test calls. */
  readonly endpoint: ServerlessModelEndpoint;
  /** The account the pipeline runs in: its principals may assume the smoke-test role. */
  readonly pipelineAccount: string;
}

/**
 * Define what a pipeline smoke test needs in a deployed stage: a role it may assume that can call
 * only the prediction route (IAM authorization) or only the live alias (Cognito authorization),
 * and the outputs that name the URL, the role, the mode and the target.
 */
export class SmokeTestAccess extends Construct {
  /** The smoke-test role's name in a stage (fixed, so that the pipeline can name its ARN without a cross-stack reference). */
  public static roleNameFor(stageName: string): string {
    return `${stageName}-predict-smoke-test`.slice(0, 64);
  }

  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SmokeTestAccessProps) {
    super(scope, id);
    const stage = Stage.of(this);
    if (!stage?.stageName) {
      throw new Error(`${this.node.path}: SmokeTestAccess must be defined inside a Stage (the pipeline names the role after the stage).`);
    }
    const { endpoint } = props;
    if (!(endpoint.restApi instanceof apigw.RestApiBase)) {
      throw new Error(`${this.node.path}: the endpoint's REST API is imported; the smoke test needs its URL (use an API defined in this app).`);
    }
    this.role = new iam.Role(this, 'Role', {
      roleName: SmokeTestAccess.roleNameFor(stage.stageName),
      assumedBy: new iam.AccountPrincipal(props.pipelineAccount),
      description: `Pipeline smoke test of ${endpoint.node.path}: one prediction per deployment`,
      maxSessionDuration: Duration.hours(1),
    });
    const authorizationType = (endpoint.method.node.defaultChild as apigw.CfnMethod).authorizationType;
    let mode: string;
    let target: string;
    if (authorizationType === apigw.AuthorizationType.IAM) {
      endpoint.grantInvoke(this.role);
      mode = 'ROUTE';
      target = endpoint.method.methodArn;
    } else {
      this.role.addToPolicy(new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [endpoint.alias.functionArn],
      }));
      mode = 'FUNCTION';
      target = endpoint.alias.functionArn;
    }
    new CfnOutput(this, SMOKE_TEST_OUTPUTS.url, { value: endpoint.restApi.urlForPath(endpoint.resource.path), description: 'POST here for a prediction' });
    new CfnOutput(this, SMOKE_TEST_OUTPUTS.roleArn, { value: this.role.roleArn, description: 'Role the pipeline smoke test assumes' });
    new CfnOutput(this, SMOKE_TEST_OUTPUTS.mode, { value: mode, description: 'ROUTE: SigV4 to the route; FUNCTION: invoke the live alias' });
    new CfnOutput(this, SMOKE_TEST_OUTPUTS.target, { value: target, description: 'What the smoke-test role may call' });
  }
}

/** Properties of `ReferencePipelineStack`. */
export interface ReferencePipelineStackProps extends StackProps {
  /**
   * ARN of the CodeStar/CodeConnections connection to the repository host.
   * @default - context `connectionArn`, else a placeholder that synthesizes but does not deploy
   */
  readonly connectionArn?: string;
  /** `owner/name` of the repository. @default - context `repository`, else 'example-org/cdk-secure-mlops' */
  readonly repository?: string;
  /** Branch that triggers the pipeline. @default - context `branch`, else 'main' */
  readonly branch?: string;
  /** Defines the app's stage (its stacks must include a `SmokeTestAccess`). */
  readonly appStage: (scope: Construct, id: string, props: StageProps) => Stage;
  /** Request body of the smoke test. @default DEFAULT_SMOKE_TEST_INPUT */
  readonly smokeTestInput?: object;
  /**
   * Class the first prediction of the smoke test must have.
   * @default - 'normal' with the default input, not checked with a custom input
   */
  readonly smokeTestExpectedLabel?: string;
  /** Where Dev deploys. @default - context `devAccount`/`devRegion`, else the pipeline's environment */
  readonly devEnv?: Environment;
  /** Where Prod deploys. @default - context `prodAccount`/`prodRegion`, else the pipeline's environment */
  readonly prodEnv?: Environment;
  /** Retention of the build logs. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Define the pipeline that tests the library and deploys the reference app to Dev and, after a
 * manual approval, to Prod, with a smoke test after each deployment.
 */
export class ReferencePipelineStack extends Stack {
  public readonly pipeline: pipelines.CodePipeline;
  public readonly artifactKey: kms.Key;
  public readonly artifactBucket: s3.Bucket;
  public readonly logsKey: kms.Key;
  public readonly buildLogs: logs.LogGroup;
  public readonly dev: Stage;
  public readonly prod: Stage;

  constructor(scope: Construct, id: string, props: ReferencePipelineStackProps) {
    super(scope, id, props);
    // The narrow trust policies of CDK Pipelines' roles, whatever the App's cdk.json says.
    for (const flag of [
      '@aws-cdk/pipelines:reduceAssetRoleTrustScope',
      '@aws-cdk/pipelines:reduceStageRoleTrustScope',
      '@aws-cdk/pipelines:reduceCrossAccountActionRoleTrustScope',
    ]) {
      this.node.setContext(flag, true);
    }
    const ctx = (key: string): string | undefined => this.node.tryGetContext(key);
    const repository = props.repository ?? ctx('repository') ?? 'example-org/cdk-secure-mlops';
    const branch = props.branch ?? ctx('branch') ?? 'main';
    const connectionArn = props.connectionArn ?? ctx('connectionArn')
      ?? `arn:${Aws.PARTITION}:codeconnections:${this.region}:${this.account}:connection/00000000-0000-0000-0000-000000000000`;

    // Artifacts: a customer-managed key with rotation (also the CodeBuild projects' key: CDK hands
    // the artifact bucket's key to every project in the pipeline), TLS-only, versioned, logged.
    this.artifactKey = new kms.Key(this, 'ArtifactKey', {
      enableKeyRotation: true,
      description: `${this.node.path}: pipeline artifacts and build outputs`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // S3 server access log delivery supports SSE-S3 only
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [{ id: 'AccessLogs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.artifactBucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.artifactKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [{ id: 'OldArtifacts', expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(7) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Server access logs delivered under a bucket policy (no ACLs): only for this bucket, this account.
    (this.artifactBucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: accessLogs.bucketName,
      logFilePrefix: 'artifacts/',
    };
    accessLogs.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowAccessLogsFromArtifacts',
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [accessLogs.arnForObjects('artifacts/*')],
      conditions: {
        ArnLike: { 'aws:SourceArn': this.artifactBucket.bucketArn },
        StringEquals: { 'aws:SourceAccount': this.account },
      },
    }));

    // Build logs: one encrypted log group for every CodeBuild project of the pipeline.
    this.logsKey = new kms.Key(this, 'LogsKey', {
      enableKeyRotation: true,
      description: `${this.node.path}: encrypts the build logs`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logsKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisAccount',
      principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${this.partition}:logs:${this.region}:${this.account}:log-group:*` } },
    }));
    this.buildLogs = new logs.LogGroup(this, 'BuildLogs', {
      encryptionKey: this.logsKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: this.artifactBucket,
      // Cross-account deployments (Dev/Prod in other accounts) need a KMS-encrypted artifact
      // bucket, which the explicit bucket above is; CDK grants the stage accounts' roles on it.
      synth: new pipelines.ShellStep('Synth', {
        input: pipelines.CodePipelineSource.connection(repository, branch, { connectionArn }),
        installCommands: ['npm ci', 'npm install --global aws-cdk@2'],
        commands: [
          // Unit tests, the security packs and CloudFormation validator, cfn-lint and checkov,
          // the type-check of examples/, jsii-rosetta and the Python parity tests.
          'npx projen test:all',
          'npx projen bundle',
          'cdk synth --app "npx ts-node --project tsconfig.dev.json examples/reference-app/pipeline-stack.ts" --output cdk.out',
        ],
        primaryOutputDirectory: 'cdk.out',
      }),
      // No Docker at synth: `cdk synth` stages image contexts but does not build them, and the
      // endpoint's zip is staged with npm. Image assets (a container-image endpoint, a
      // TrainingImage.fromAsset) are built in the Assets stage, whose projects CDK Pipelines makes
      // privileged exactly when an image asset exists (Docker-in-Docker needs it).
      dockerEnabledForSynth: false,
      dockerEnabledForSelfMutation: false,
      codeBuildDefaults: {
        buildEnvironment: {
          buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
          computeType: codebuild.ComputeType.SMALL,
          privileged: false,
        },
        logging: { cloudWatch: { logGroup: this.buildLogs } },
        timeout: Duration.minutes(30),
      },
      synthCodeBuildDefaults: {
        // test:all runs jest, jsii, two scanners and Python tests: more memory and time.
        buildEnvironment: { computeType: codebuild.ComputeType.LARGE },
        partialBuildSpec: codebuild.BuildSpec.fromObject({ phases: { install: { 'runtime-versions': { nodejs: 22, python: '3.12' } } } }),
        timeout: Duration.minutes(90),
      },
    });

    const devEnv = props.devEnv ?? envFromContext(this, 'dev');
    const prodEnv = props.prodEnv ?? envFromContext(this, 'prod');
    const input = props.smokeTestInput ?? DEFAULT_SMOKE_TEST_INPUT;
    const expectedLabel = props.smokeTestExpectedLabel ?? (props.smokeTestInput ? undefined : DEFAULT_SMOKE_TEST_LABEL);

    this.dev = props.appStage(this, 'Dev', { env: devEnv });
    this.pipeline.addStage(this.dev, { post: [this.smokeTest(this.dev, input, expectedLabel)] });

    this.prod = props.appStage(this, 'Prod', { env: prodEnv });
    this.pipeline.addStage(this.prod, {
      pre: [new pipelines.ManualApprovalStep('PromoteToProd', { comment: 'Dev is deployed and its smoke test passed. Promote this revision to Prod?' })],
      post: [this.smokeTest(this.prod, input, expectedLabel)],
    });

    this.pipeline.buildPipeline();
  }

  /** The smoke test of one deployed stage (see the file header for how it authenticates). */
  private smokeTest(stage: Stage, input: object, expectedLabel: string | undefined): pipelines.CodeBuildStep {
    const output = (id: string): CfnOutput => {
      const found = stage.node.findAll().filter((c: IConstruct): c is CfnOutput => c instanceof CfnOutput && c.node.id === id);
      if (found.length !== 1) {
        throw new Error(`${stage.node.path}: expected exactly one CfnOutput '${id}' in the stage, found ${found.length}. Add a SmokeTestAccess (examples/reference-app/pipeline-stack.ts) to the stack that defines the ServerlessModelEndpoint.`);
      }
      return found[0];
    };
    const account = stage.account ?? this.account;
    const region = stage.region ?? this.region;
    const roleArn = `arn:${this.partition}:iam::${account}:role/${SmokeTestAccess.roleNameFor(stage.stageName)}`;
    return new pipelines.CodeBuildStep('SmokeTest', {
      envFromCfnOutputs: {
        PREDICT_URL: output(SMOKE_TEST_OUTPUTS.url),
        SMOKE_ROLE_ARN: output(SMOKE_TEST_OUTPUTS.roleArn),
        SMOKE_MODE: output(SMOKE_TEST_OUTPUTS.mode),
        SMOKE_TARGET: output(SMOKE_TEST_OUTPUTS.target),
      },
      env: {
        SMOKE_INPUT: JSON.stringify(input),
        EXPECTED_LABEL: expectedLabel ?? '',
        STAGE_REGION: region,
      },
      installCommands: ['pip3 install --quiet awscurl==0.44'],
      commands: smokeTestCommands(),
      rolePolicyStatements: [new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [roleArn] })],
      timeout: Duration.minutes(10),
    });
  }
}

/** Shell commands of the smoke test (POSIX sh; CodeBuild runs each line in the same shell). */
function smokeTestCommands(): string[] {
  const check = [
    'const r = JSON.parse(require("fs").readFileSync("response.json", "utf8"));',
    'const body = r.statusCode === undefined ? r : (r.statusCode === 200 ? JSON.parse(r.body) : (() => { throw new Error(`live alias answered ${r.statusCode}: ${r.body}`); })());',
    'if (!body.modelVersion) throw new Error("no modelVersion in the response");',
    'const label = body.predictions && body.predictions[0] && body.predictions[0].label;',
    'if (process.env.EXPECTED_LABEL && label !== process.env.EXPECTED_LABEL) throw new Error(`expected ${process.env.EXPECTED_LABEL}, got ${label}`);',
    'console.log(`smoke test passed: ${body.modelVersion} answered ${label}`);',
  ].join(' ');
  return [
    'set -eu',
    // 1. Without credentials the route must refuse (deployed, reachable through the WAF, authorized).
    'code=$(curl --silent --output /dev/null --write-out "%{http_code}" -X POST -H "Content-Type: application/json" --data "$SMOKE_INPUT" "$PREDICT_URL")',
    'echo "unauthenticated POST $PREDICT_URL -> HTTP $code"',
    'test "$code" = 401 || test "$code" = 403',
    // 2. With the stage's smoke-test role: SigV4 to the route, or the live alias directly.
    'creds=$(aws sts assume-role --role-arn "$SMOKE_ROLE_ARN" --role-session-name pipeline-smoke-test --duration-seconds 900 --query "Credentials.[AccessKeyId,SecretAccessKey,SessionToken]" --output text)',
    'export AWS_ACCESS_KEY_ID=$(echo "$creds" | cut -f1) AWS_SECRET_ACCESS_KEY=$(echo "$creds" | cut -f2) AWS_SESSION_TOKEN=$(echo "$creds" | cut -f3)',
    'if [ "$SMOKE_MODE" = ROUTE ]; then awscurl --service execute-api --region "$STAGE_REGION" -X POST -H "Content-Type: application/json" -d "$SMOKE_INPUT" "$PREDICT_URL" > response.json; '
      + 'else node -e \'process.stdout.write(JSON.stringify({ httpMethod: "POST", headers: { "content-type": "application/json" }, isBase64Encoded: false, body: process.env.SMOKE_INPUT }))\' > event.json '
      + '&& aws lambda invoke --region "$STAGE_REGION" --function-name "$SMOKE_TARGET" --cli-binary-format raw-in-base64-out --payload file://event.json response.json; fi',
    `node -e '${check}'`,
  ];
}

/** Stage environment from context (`<stage>Account`, `<stage>Region`), else the pipeline's. */
function envFromContext(stack: Stack, stage: string): Environment {
  return {
    account: stack.node.tryGetContext(`${stage}Account`) ?? stack.account,
    region: stack.node.tryGetContext(`${stage}Region`) ?? stack.region,
  };
}

// `cdk synth --app "npx ts-node --project tsconfig.dev.json examples/reference-app/pipeline-stack.ts"`
// (the Synth step's command; `cdk deploy` with the same --app deploys the pipeline once, after
// which it updates itself). Context: connectionArn, repository, branch, pipelineAccount,
// pipelineRegion, devAccount, devRegion, prodAccount, prodRegion.
if (require.main === module) {
  // The reference app (app.ts), loaded at run time so that this file type-checks on its own.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ReferenceAppStack } = require('./app') as {
    ReferenceAppStack: new (scope: Construct, id: string) => Stack & { readonly endpoint: ServerlessModelEndpoint };
  };
  const app = new App();
  const pipelineEnv = {
    account: app.node.tryGetContext('pipelineAccount') ?? process.env.CDK_DEFAULT_ACCOUNT,
    region: app.node.tryGetContext('pipelineRegion') ?? process.env.CDK_DEFAULT_REGION,
  };
  new ReferencePipelineStack(app, 'HearingTestPipeline', {
    env: pipelineEnv,
    appStage: (scope, id, props) => {
      const stage = new Stage(scope, id, props);
      const stack = new ReferenceAppStack(stage, 'HearingTest');
      new SmokeTestAccess(stack, 'SmokeTest', { endpoint: stack.endpoint, pipelineAccount: pipelineEnv.account });
      return stage;
    },
  });
  app.synth();
}
