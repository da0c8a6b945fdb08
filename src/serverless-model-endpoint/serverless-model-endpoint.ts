import { Duration, Size, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, IConstruct } from 'constructs';
import { PredictionCaptureOptions } from './capture-options';
import { ModelArtifact } from './model-artifact';
import { definePredictionCapture } from './prediction-capture';
import { ENDPOINT_ENV, ENDPOINT_METRIC, METRICS_NAMESPACE } from './runtime/contract';
import { nodeArch, PINNED_IMAGE, stageImageContext, zipCode } from './runtime-package';
import { HandlerOptions } from '../api-options/handler-options';
import { SecureApiOptions } from '../api-options/secure-api-options';
import { acknowledgeReviewed, apiRouteAcknowledgments, compliance, iam5Resource, REASON } from '../private/acknowledgments';
import { addValidatedPost, createApiRoute, createHandlerRole } from '../private/api-route';
import { retentionAtLeast } from '../private/encrypted-logs';
import { invalidProp } from '../private/errors';
import { handlerRuntime, keepStaging, privateStagingDir } from '../private/function-code';
import { handlerDefaults } from '../private/handler-defaults';

/**
 * How the function and its ONNX runtime are packaged.
 */
export enum ModelPackaging {
  /**
   * A zip: the handler, onnxruntime-node for the one target platform (about 46 MB unzipped on
   * x86_64, 25 MB on arm64) and a packaged model. Staged on the machine that synthesizes; no
   * Docker needed.
   */
  ZIP = 'ZIP',
  /**
   * A container image (up to 10 GB) built from the same staged files on the AWS Lambda Node.js
   * base image, for models beyond the 250 MB zip limit. Needs Docker where you deploy.
   */
  CONTAINER_IMAGE = 'CONTAINER_IMAGE',
}

/**
 * Target-tracking autoscaling of the provisioned concurrency of the live alias.
 */
export interface EndpointAutoScaling {
  /** Least provisioned concurrency. */
  readonly minCapacity: number;
  /** Most provisioned concurrency. */
  readonly maxCapacity: number;
  /**
   * Target utilization of the provisioned concurrency (0.1 to 0.9).
   *
   * @default 0.7
   */
  readonly utilizationTarget?: number;
}

/**
 * Properties of a `ServerlessModelEndpoint`.
 */
export interface ServerlessModelEndpointProps extends SecureApiOptions, HandlerOptions {
  /** The ONNX model to serve. */
  readonly model: ModelArtifact;

  /**
   * Path of the route under the API root.
   *
   * @default 'predict'
   */
  readonly resourcePath?: string;

  /**
   * Instruction set of the function. arm64 is cheaper per GB-second, but ONNX Runtime has
   * failed on Lambda arm64 while reading CPU information (microsoft/onnxruntime#10038): validate
   * your model there before you switch.
   *
   * @default lambda.Architecture.X86_64
   */
  readonly architecture?: lambda.Architecture;

  /**
   * Zip or container image.
   *
   * @default ModelPackaging.ZIP
   */
  readonly packaging?: ModelPackaging;

  /**
   * The base image of the container packaging, pinned by digest: the AWS Lambda Node.js base image
   * of the function's runtime, `public.ecr.aws/lambda/nodejs:<major>@sha256:<digest>` (or the same
   * image in a registry mirror of your own). An image named by its tag alone can change under the
   * same name, so the container packaging requires a digest: take the image index digest, which
   * serves both architectures (`docker buildx imagetools inspect public.ecr.aws/lambda/nodejs:24`),
   * and renew it to take AWS's security updates of the base image.
   *
   * The image's Node.js version is the function's: `runtime` does not apply to container images.
   *
   * @default - none: required with `ModelPackaging.CONTAINER_IMAGE`, unused with `ModelPackaging.ZIP`
   */
  readonly containerBaseImage?: string;

  /**
   * Memory of the function in MiB (CPU grows with it).
   *
   * @default 1024
   */
  readonly memorySize?: number;

  /**
   * Timeout of one invocation (at most 29 seconds, the API Gateway integration timeout).
   *
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;

  /**
   * The largest request body accepted.
   *
   * @default Size.kibibytes(256)
   */
  readonly maxRequestSize?: Size;

  /**
   * The most examples in one request.
   *
   * @default 64
   */
  readonly maxBatchSize?: number;

  /**
   * How a new version (new model or code) shifts traffic from the old one. Errors or high
   * latency on the new version roll it back automatically.
   *
   * @default codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES
   */
  readonly deploymentConfig?: codedeploy.ILambdaDeploymentConfig;

  /**
   * p99 latency of the live alias above which an alarm fires (and a rollout rolls back).
   *
   * @default Duration.seconds(1)
   */
  readonly latencyAlarmThreshold?: Duration;

  /**
   * Where the error and latency alarms also notify (for example an SNS topic action). Rollouts
   * use the alarms either way.
   *
   * @default - no action: CodeDeploy polls the alarms during rollouts
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;

  /**
   * Provisioned concurrency of the live alias (no cold starts for that many environments).
   *
   * @default - none
   */
  readonly provisionedConcurrency?: number;

  /**
   * Autoscaling of the provisioned concurrency.
   *
   * @default - no autoscaling
   */
  readonly autoScaling?: EndpointAutoScaling;

  /**
   * Capture a sample of the predictions into the lake (opt-in): for each sampled request, the
   * inputs, the outputs, the model version and SHA-256, the inference id and the time, as JSON
   * Lines under `monitoring/captures/endpoint=<captureName>/` of the lake's models zone (SSE-KMS
   * with the lake's key, partitioned by model and hour, expired by the lake).
   *
   * Capture puts no network call on the request path: the handler writes one line to its log
   * stream, and a capture writer function subscribed to the log group delivers it. A capture line
   * carries no request id, no caller identity and no header. The captured inputs also stay in the
   * function's log group for `logRetention`, encrypted with the construct's logs key (they are the
   * same health data). A capture that cannot be written is counted and never fails the prediction.
   *
   * Every 200 answer carries an inference id (`inferenceId` in the body, `X-Inference-Id` header)
   * with or without capture.
   *
   * @default - no capture
   */
  readonly capture?: PredictionCaptureOptions;
}

/**
 * An ONNX model endpoint.
 */
export interface IServerlessModelEndpoint extends IConstruct {
  /** The live alias that the API invokes. */
  readonly alias: lambda.IAlias;
  /** Allow a principal to call the route (IAM authorization). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant;
}

/**
 * Define an ONNX model served from AWS Lambda (onnxruntime-node, model loaded once per
 * execution environment) behind a hardened REST API route, with gradual rollout and automatic
 * rollback of new versions.
 *
 * Requests are `{"inputs": {"<input name>": [[...], ...]}}`, validated against the model's own
 * input metadata; responses name the model version and, for classifiers, the classes.
 *
 * @example
 * import { Stack } from 'aws-cdk-lib';
 * import { ModelArtifact, SecureDataLake, ServerlessModelEndpoint } from 'cdk-secure-mlops';
 *
 * declare const stack: Stack;
 * declare const lake: SecureDataLake;
 *
 * new ServerlessModelEndpoint(stack, 'Predict', {
 *   model: ModelArtifact.fromAsset('models/hearing-who-grade.onnx', {
 *     version: 'hearing-who-grade@1',
 *     classNames: ['normal', 'mild', 'moderate', 'moderately severe', 'severe', 'profound', 'complete'],
 *   }),
 *   // optional: capture predictions into the lake for drift monitoring
 *   capture: { lake, captureName: 'hearing-who-grade' },
 * });
 */
export class ServerlessModelEndpoint extends Construct implements IServerlessModelEndpoint {
  /** The function (all versions). */
  public readonly handler: lambda.Function;
  /** The live alias that the API invokes. */
  public readonly alias: lambda.IAlias;
  /** The REST API that serves the route. */
  public readonly restApi: apigw.IRestApi;
  /** The route's resource. */
  public readonly resource: apigw.IResource;
  /** The POST method of the route. */
  public readonly method: apigw.Method;
  /** The CodeDeploy deployment group that rolls out new versions. */
  public readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** Fires on errors of the live alias. */
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** Fires when the p99 latency of the live alias is too high. */
  public readonly latencyAlarm: cloudwatch.Alarm;
  /** The user pool, when the construct created one (default authorization). */
  public readonly userPool?: cognito.IUserPool;
  /** The web ACL of the new API (undefined when attached to an existing API). */
  public readonly webAcl?: wafv2.CfnWebACL;
  /** The key that encrypts the construct's log groups. */
  public readonly logsKey: kms.IKey;
  /** The model version the endpoint serves. */
  public readonly modelVersion: string;
  /** Service name in the handler's logs and the `service` dimension of its EMF metrics. */
  public readonly serviceName: string;
  /** The endpoint's name in its prediction captures (with `capture`). */
  public readonly captureName?: string;
  /** The function that writes prediction captures to the lake (with `capture`). */
  public readonly captureWriter?: lambda.IFunction;
  /** Fires when prediction captures could not be written to the lake (with `capture`). */
  public readonly captureDeadLetterAlarm?: cloudwatch.IAlarm;

  constructor(scope: Construct, id: string, props: ServerlessModelEndpointProps) {
    super(scope, id);
    this.serviceName = this.node.path;

    const memorySize = props.memorySize ?? 1024;
    if (!Token.isUnresolved(memorySize) && (memorySize < 512 || memorySize > 10240)) {
      invalidProp(this, 'memorySize', memorySize, 'expected 512 to 10240 MiB (the ONNX runtime alone needs about 200 MiB)');
    }
    const timeout = props.timeout ?? Duration.seconds(10);
    if (!Token.isUnresolved(timeout.toSeconds()) && (timeout.toSeconds() < 1 || timeout.toSeconds() > 29)) {
      invalidProp(this, 'timeout', timeout, 'expected 1 to 29 seconds (API Gateway ends an integration after 29 seconds)');
    }
    const maxBytes = (props.maxRequestSize ?? Size.kibibytes(256)).toBytes();
    if (!Token.isUnresolved(maxBytes) && (maxBytes < 64 || maxBytes > 6 * 1024 * 1024)) {
      invalidProp(this, 'maxRequestSize', `${maxBytes} bytes`, 'expected 64 bytes to 6 MiB (the Lambda synchronous payload limit)');
    }
    const maxBatch = props.maxBatchSize ?? 64;
    if (!Token.isUnresolved(maxBatch) && (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 10_000)) {
      invalidProp(this, 'maxBatchSize', maxBatch, 'expected an integer from 1 to 10000');
    }
    const resourcePath = props.resourcePath ?? 'predict';
    if (!/^[A-Za-z0-9._-]+$/.test(resourcePath)) {
      invalidProp(this, 'resourcePath', resourcePath, 'expected one path segment of letters, digits, ".", "_" or "-" (e.g. "predict")');
    }
    if (props.autoScaling) {
      const { minCapacity, maxCapacity, utilizationTarget = 0.7 } = props.autoScaling;
      if (minCapacity < 1 || maxCapacity < minCapacity) {
        invalidProp(this, 'autoScaling', props.autoScaling, 'expected 1 <= minCapacity <= maxCapacity');
      }
      if (utilizationTarget < 0.1 || utilizationTarget > 0.9) {
        invalidProp(this, 'autoScaling.utilizationTarget', utilizationTarget, 'expected 0.1 to 0.9');
      }
    }

    const route = createApiRoute(this, props, `${this.node.path}: ONNX model predictions`);
    this.restApi = route.restApi;
    this.webAcl = route.webAcl;
    this.userPool = route.userPool;
    this.logsKey = route.logsKey;
    const { role, logGroup } = createHandlerRole(this, route, 'Serves predictions of an ONNX model', props);
    const capture = props.capture ? definePredictionCapture(this, {
      capture: props.capture,
      logGroup,
      logsKey: this.logsKey,
      retention: retentionAtLeast(route.logRetention),
      serviceName: this.serviceName,
      runtime: props.runtime,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      alarmAction: props.alarmAction,
    }) : undefined;
    this.captureName = capture?.captureName;
    this.captureWriter = capture?.writer;
    this.captureDeadLetterAlarm = capture?.deadLetterAlarm;

    const architecture = props.architecture ?? lambda.Architecture.X86_64;
    const runtime = handlerRuntime(this, props.runtime);
    const model = props.model._bind(this, role);
    this.modelVersion = props.model.version;
    const stage = { arch: nodeArch(architecture), modelFile: model.packagedFile };

    const common: lambda.FunctionOptions = {
      ...handlerDefaults(props),
      // The library's other handlers run on arm64; ONNX Runtime defaults to x86_64 (see the prop).
      architecture,
      role,
      logGroup,
      memorySize,
      timeout,
      description: `${this.node.path}: serves ${props.model.version}`,
      environment: {
        ...model.environment,
        [ENDPOINT_ENV.modelVersion]: props.model.version,
        [ENDPOINT_ENV.classNames]: JSON.stringify(props.model.classNames ?? []),
        [ENDPOINT_ENV.maxBodyBytes]: String(maxBytes),
        [ENDPOINT_ENV.maxBatch]: String(maxBatch),
        [ENDPOINT_ENV.allowedOrigins]: JSON.stringify(props.allowedOrigins ?? []),
        [ENDPOINT_ENV.serviceName]: this.serviceName,
        [ENDPOINT_ENV.metricsNamespace]: METRICS_NAMESPACE,
        ...capture?.environment,
      },
    };
    if ((props.packaging ?? ModelPackaging.ZIP) === ModelPackaging.CONTAINER_IMAGE) {
      const baseImage = props.containerBaseImage;
      if (baseImage === undefined || Token.isUnresolved(baseImage) || !PINNED_IMAGE.test(baseImage)) {
        invalidProp(this, 'containerBaseImage', baseImage,
          `expected the Lambda base image pinned by digest, such as public.ecr.aws/lambda/nodejs:${/\d+/.exec(runtime.name)?.[0] ?? '24'}@sha256:<64 hex digits> `
          + '(the container packaging never builds on a base image named by its tag alone; get the digest with `docker buildx imagetools inspect <image>`)');
      }
      const context = privateStagingDir('endpoint-image', keepStaging(this));
      stageImageContext(context, stage, baseImage);
      this.handler = new lambda.DockerImageFunction(this, 'Function', {
        ...common,
        code: lambda.DockerImageCode.fromImageAsset(context, {
          platform: architecture === lambda.Architecture.ARM_64 ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64,
        }),
      });
    } else {
      if (props.containerBaseImage !== undefined) {
        invalidProp(this, 'containerBaseImage', props.containerBaseImage, 'it applies to packaging ModelPackaging.CONTAINER_IMAGE only: remove it, or set packaging');
      }
      this.handler = new lambda.Function(this, 'Function', {
        ...common,
        runtime,
        handler: 'index.handler',
        code: zipCode(stage, model.sha256),
      });
    }

    const alias = new lambda.Alias(this, 'Live', {
      aliasName: 'live',
      version: this.handler.currentVersion,
      provisionedConcurrentExecutions: props.provisionedConcurrency,
    });
    this.alias = alias;
    if (props.autoScaling) {
      alias.addAutoScaling({ minCapacity: props.autoScaling.minCapacity, maxCapacity: props.autoScaling.maxCapacity })
        .scaleOnUtilization({ utilizationTarget: props.autoScaling.utilizationTarget ?? 0.7 });
    }

    // The handler answers model and runtime faults with a 500 (counted in its ServerErrors metric)
    // instead of throwing, so Lambda's Errors metric alone would miss them: the alarm adds both.
    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: `${this.node.path}: invocation errors plus 5xx answers of the endpoint (rolls back a rollout)`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(invocationErrors, 0) + FILL(serverErrors, 0)',
        usingMetrics: {
          invocationErrors: this.alias.metricErrors({ statistic: cloudwatch.Stats.SUM }),
          serverErrors: this.handlerMetric(ENDPOINT_METRIC.serverErrors, { statistic: cloudwatch.Stats.SUM }),
        },
        period: Duration.minutes(1),
        label: 'Errors and 5xx answers',
      }),
      threshold: 1,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.latencyAlarm = new cloudwatch.Alarm(this, 'LatencyAlarm', {
      alarmDescription: `${this.node.path}: p99 duration of the live alias (rolls back a rollout)`,
      metric: this.alias.metricDuration({ period: Duration.minutes(1), statistic: cloudwatch.Stats.p(99) }),
      threshold: (props.latencyAlarmThreshold ?? Duration.seconds(1)).toMilliseconds(),
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (props.alarmAction) {
      for (const alarm of [this.errorsAlarm, this.latencyAlarm]) {
        alarm.addAlarmAction(props.alarmAction);
        alarm.addOkAction(props.alarmAction);
      }
    }

    // CodeDeploy's own construct attaches an AWS-managed policy to its role; this role carries
    // the few actions a Lambda rollout needs, scoped to this function, and refuses that policy.
    const deployRole = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: 'Shifts traffic between versions of the model endpoint',
    });
    deployRole.addToPolicy(new iam.PolicyStatement({
      actions: ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetProvisionedConcurrencyConfig'],
      resources: [this.handler.functionArn, `${this.handler.functionArn}:*`],
    }));
    deployRole.addToPolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:DescribeAlarms'],
      resources: [this.errorsAlarm.alarmArn, this.latencyAlarm.alarmArn],
    }));
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'Deployment', {
      alias,
      deploymentConfig: props.deploymentConfig ?? codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [this.errorsAlarm, this.latencyAlarm],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      role: deployRole.withoutPolicyUpdates(),
    });

    const post = addValidatedPost(this, route, {
      path: resourcePath,
      modelId: 'RequestModel',
      required: ['inputs'],
      properties: { inputs: { type: apigw.JsonSchemaType.OBJECT, minProperties: 1, maxProperties: 32 } },
      integration: new apigw.LambdaIntegration(alias, {
        proxy: true,
        timeout: Duration.seconds(Math.min(29, timeout.toSeconds() + 1)),
      }),
    });
    this.resource = post.resource;
    this.method = post.method;

    acknowledgeReviewed(this, [
      ...apiRouteAcknowledgments(this, { handler: /^Function\/Resource$/, handlerPolicy: /^HandlerRole\/DefaultPolicy\/Resource$/, reservedConcurrency: props.reservedConcurrency, inVpc: props.vpc !== undefined }),
      { at: /^DeploymentRole\/DefaultPolicy\/Resource$/, ids: [iam5Resource(`${this.handler.functionArn}:*`)], reason: REASON.deploymentVersions },
      { at: /^DeploymentRole\/DefaultPolicy\/Resource$/, ids: compliance('IAMNoInlinePolicy'), reason: REASON.inlinePolicy },
      ...(props.alarmAction ? [] : [{ at: /^(ErrorsAlarm|LatencyAlarm)\/Resource$/, ids: compliance('CloudWatchAlarmAction'), reason: REASON.rolloutAlarm }]),
    ]);
  }

  /**
   * The base URL of the new API's stage (`https://.../v1/`); undefined when attached to an
   * existing API.
   */
  public get url(): string | undefined {
    return this.restApi instanceof apigw.RestApi ? this.restApi.url : undefined;
  }

  /**
   * Allow a principal to call the route (for `ApiAuthorization.iam()`).
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.method.methodArn],
    });
  }

  /**
   * Time to load the model and create the inference session, per cold start (EMF metric of the
   * handler).
   */
  public metricModelLoadTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric(ENDPOINT_METRIC.modelLoadTime, props);
  }

  /**
   * Requests answered with a 5xx by the handler (EMF metric of the handler; Lambda's own Errors
   * metric does not count them).
   */
  public metricServerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric(ENDPOINT_METRIC.serverErrors, { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /**
   * Time of `session.run` per request (EMF metric of the handler).
   */
  public metricInferenceLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric(ENDPOINT_METRIC.inferenceLatency, props);
  }

  /**
   * Prediction captures that will not reach the lake: too large or failed to build (predict
   * handler), or malformed (capture writer). The records' `captureDropReason` says which. Zero
   * without `capture`.
   */
  public metricCapturesDropped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric(ENDPOINT_METRIC.capturesDropped, { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /**
   * Lake writes of the capture writer that failed (each failed invocation is retried by Lambda
   * twice, then kept in the capture dead-letter queue). Zero without `capture`.
   */
  public metricCaptureDeliveryFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric(ENDPOINT_METRIC.captureDeliveryFailures, { statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** Invocations of the live alias. */
  public metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricInvocations(props);
  }

  /** Errors of the live alias. */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricErrors(props);
  }

  /** Duration of the live alias. */
  public metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.alias.metricDuration(props);
  }

  private handlerMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: cloudwatch.Stats.p(99),
      period: Duration.minutes(5),
      region: Stack.of(this).region,
      ...props,
    });
  }
}
