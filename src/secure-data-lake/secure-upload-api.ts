import { Duration, Size, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { DataZone } from './data-zone';
import { UPLOAD_ENV } from './runtime/contract';
import { ISecureDataLake } from './secure-data-lake';
import { ApiAuthorization } from '../api-options/api-authorization';
import { HandlerOptions } from '../api-options/handler-options';
import { SecureApiOptions } from '../api-options/secure-api-options';
import { acknowledgeReviewed, apiRouteAcknowledgments, iam5Resource, REASON } from '../private/acknowledgments';
import { addValidatedPost, createApiRoute, createHandlerRole } from '../private/api-route';
import { invalidProp } from '../private/errors';
import { handlerCode, handlerRuntime } from '../private/function-code';
import { handlerDefaults } from '../private/handler-defaults';

/**
 * Properties of a `SecureUploadApi`.
 */
export interface SecureUploadApiProps extends SecureApiOptions, HandlerOptions {
  /** The lake whose raw zone receives the uploads. */
  readonly lake: ISecureDataLake;

  /**
   * The largest object a client may upload.
   *
   * @default Size.mebibytes(5)
   */
  readonly maxObjectSize?: Size;

  /**
   * The content types a client may upload.
   *
   * @default ['application/json']
   */
  readonly allowedContentTypes?: string[];

  /**
   * How long a presigned POST stays valid (at most 5 minutes).
   *
   * @default Duration.minutes(5)
   */
  readonly urlExpiry?: Duration;

  /**
   * Key prefix in the raw zone under which each caller gets its own folder
   * (`<prefix><caller>/<yyyy>/<mm>/<dd>/<uploadId>.<ext>`, where `<caller>` is the caller's
   * pseudonym: 32 hex digits).
   *
   * @default 'uploads/'
   */
  readonly keyPrefix?: string;
}

/**
 * Define the secure upload route of a data lake: `POST /uploads` returns a presigned POST for
 * one object in the raw zone. The object key is bound to the caller: its folder is the caller's
 * keyed pseudonym (HMAC-SHA-256 of the caller's identity with the lake's pseudonymization key,
 * never the identity itself); the POST policy caps the size, fixes the content type and requires
 * SSE-KMS with the lake's key; it expires within 5 minutes. The lake must have a
 * pseudonymization key.
 *
 * @example
 * import { Stack } from 'aws-cdk-lib';
 * import { SecureDataLake, SecureUploadApi } from 'cdk-secure-mlops';
 *
 * declare const stack: Stack;
 *
 * const lake = new SecureDataLake(stack, 'Lake');
 * const uploads = new SecureUploadApi(stack, 'Uploads', {
 *   lake,
 *   allowedOrigins: ['https://app.example.com'],
 * });
 */
export class SecureUploadApi extends Construct {
  /** The REST API that serves `POST /uploads`. */
  public readonly restApi: apigw.IRestApi;
  /** The `/uploads` resource. */
  public readonly uploadsResource: apigw.IResource;
  /** The handler that signs upload requests. */
  public readonly handler: lambda.IFunction;
  /** The user pool, when the construct created one (default authorization). */
  public readonly userPool?: cognito.IUserPool;
  /**
   * How the route authorizes callers. Pass it (with `restApi`) to the other constructs of the same
   * API so that every route shares one authorizer.
   */
  public readonly authorization: ApiAuthorization;
  /** The web ACL of the new API (undefined when attached to an existing API). */
  public readonly webAcl?: wafv2.CfnWebACL;
  /** The key that encrypts the construct's log groups. */
  public readonly logsKey: kms.IKey;

  constructor(scope: Construct, id: string, props: SecureUploadApiProps) {
    super(scope, id);

    const maxBytes = (props.maxObjectSize ?? Size.mebibytes(5)).toBytes();
    if (!Token.isUnresolved(maxBytes) && (maxBytes < 1 || maxBytes > 5 * 1024 ** 3)) {
      invalidProp(this, 'maxObjectSize', `${maxBytes} bytes`, 'expected 1 byte to 5 GiB (the largest single PUT or POST S3 accepts)');
    }
    const expirySeconds = (props.urlExpiry ?? Duration.minutes(5)).toSeconds();
    if (!Token.isUnresolved(expirySeconds) && (expirySeconds < 10 || expirySeconds > 300)) {
      invalidProp(this, 'urlExpiry', `${expirySeconds} seconds`, 'expected 10 seconds to 5 minutes');
    }
    const contentTypes = props.allowedContentTypes ?? ['application/json'];
    if (contentTypes.length === 0 || contentTypes.some((t) => !/^[\w.+-]+\/[\w.+-]+$/.test(t))) {
      invalidProp(this, 'allowedContentTypes', contentTypes, 'expected at least one media type such as "application/json"');
    }
    const keyPrefix = props.keyPrefix ?? 'uploads/';
    if (!/^([A-Za-z0-9._-]+\/)*$/.test(keyPrefix)) {
      invalidProp(this, 'keyPrefix', keyPrefix, 'expected "" or path segments of letters, digits, ".", "_" or "-", each followed by "/" (e.g. "uploads/")');
    }

    const hmacKey = props.lake.pseudonymizationKey;
    if (!hmacKey) {
      invalidProp(this, 'lake', 'a lake without a pseudonymization key',
        'the upload route names each caller\'s folder by a keyed pseudonym: pass a SecureDataLake, or import one with pseudonymizationKeyArn');
    }

    const route = createApiRoute(this, props, `${this.node.path}: secure uploads to the data lake`);
    this.restApi = route.restApi;
    this.webAcl = route.webAcl;
    this.userPool = route.userPool;
    this.authorization = route.authorization;
    this.logsKey = route.logsKey;
    const { role, logGroup } = createHandlerRole(this, route, 'Signs presigned POSTs for the raw zone of the data lake', props);

    const rawBucket = props.lake.bucket(DataZone.RAW);
    const handler = new lambda.Function(this, 'Handler', {
      description: 'src/secure-data-lake/upload-url.lambda.ts',
      runtime: handlerRuntime(this, props.runtime),
      handler: 'index.handler',
      code: handlerCode(this, 'secure-data-lake', 'upload-url'),
      role,
      logGroup,
      memorySize: 256,
      timeout: Duration.seconds(5),
      ...handlerDefaults(props),
      environment: {
        [UPLOAD_ENV.bucketName]: rawBucket.bucketName,
        [UPLOAD_ENV.kmsKeyArn]: props.lake.encryptionKey.keyArn,
        [UPLOAD_ENV.hmacKeyId]: hmacKey.keyArn,
        [UPLOAD_ENV.keyPrefix]: keyPrefix,
        [UPLOAD_ENV.maxBytes]: String(maxBytes),
        [UPLOAD_ENV.allowedContentTypes]: JSON.stringify(contentTypes),
        [UPLOAD_ENV.expirySeconds]: String(expirySeconds),
        [UPLOAD_ENV.allowedOrigins]: JSON.stringify(props.allowedOrigins ?? []),
        [UPLOAD_ENV.logLevel]: 'INFO',
      },
    });
    this.handler = handler;
    // The presigned POST is signed with the handler's credentials: S3 authorizes the client's
    // upload as this role, so the role may put objects under the upload prefix only.
    props.lake.grantWrite(role, DataZone.RAW, `${keyPrefix}*`);
    // The caller's folder is its keyed pseudonym (GenerateMac on the lake's HMAC key).
    props.lake.grantPseudonymize(role);

    this.uploadsResource = addValidatedPost(this, route, {
      path: 'uploads',
      modelId: 'UploadRequestModel',
      required: ['contentType'],
      properties: {
        contentType: { type: apigw.JsonSchemaType.STRING, enum: contentTypes },
        contentLength: { type: apigw.JsonSchemaType.INTEGER, minimum: 1, maximum: maxBytes },
      },
      integration: new apigw.LambdaIntegration(handler, { proxy: true }),
    }).resource;

    acknowledgeReviewed(this, [
      { at: /^HandlerRole\/DefaultPolicy\/Resource$/, ids: [iam5Resource(`${rawBucket.bucketArn}/${keyPrefix}*`)], reason: REASON.uploadsPrefix },
      ...apiRouteAcknowledgments(this, { handler: /^Handler\/Resource$/, handlerPolicy: /^HandlerRole\/DefaultPolicy\/Resource$/, reservedConcurrency: props.reservedConcurrency, inVpc: props.vpc !== undefined }),
    ]);
  }

  /**
   * The base URL of the new API's stage (`https://.../v1/`); undefined when attached to an
   * existing API.
   */
  public get url(): string | undefined {
    return this.restApi instanceof apigw.RestApi ? this.restApi.url : undefined;
  }
}
