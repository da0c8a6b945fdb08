import * as fs from 'fs';
import * as path from 'path';
import { Aws, CustomResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct, IConstruct } from 'constructs';
import { DEPLOY_ENV, DeployFile, DeployProperties } from './runtime/contract';
import { consoleContentSecurityPolicy } from './security-headers';
import { acknowledgeReviewed, compliance, iam5Resource, REASON, ReviewedAcknowledgment } from '../private/acknowledgments';
import { allowLogsService } from '../private/encrypted-logs';
import { invalidProp } from '../private/errors';
import { handlerCode, handlerRuntime } from '../private/function-code';
import { handlerDefaults } from '../private/handler-defaults';
import { defineHandlerRole } from '../private/handler-role';

/** The built console (assets/review-console/web/, `npx projen bundle`). */
const WEB_DIR = path.join(__dirname, '..', '..', 'assets', 'review-console', 'web');

/** A view for a record type: an ES module (JavaScript) served beside the console. */
export interface ReviewConsoleView {
  /** Name shown in the console's view switcher, e.g. `Audiogram`. */
  readonly name: string;
  /**
   * Path of the view's ES module on disk (a bundled `.js` file exporting `matches(record)` and
   * `render(container, record, context)`); served as `views/<file name>`.
   */
  readonly file: string;
}

/** Properties of a ReviewConsole. */
export interface ReviewConsoleProps {
  /** The user pool whose members review (a LabelingPipeline's `reviewUserPool`). */
  readonly userPool: cognito.IUserPool;
  /** The REST API that serves the review routes (a LabelingPipeline's `reviewRestApi`). */
  readonly api: apigw.IRestApi;
  /**
   * Path of the review routes' parent on the API's stage (the console calls `<path>/reviews`).
   * @default '/'
   */
  readonly apiBasePath?: string;
  /** The label task's classes, in order (keys 1..9 choose the first nine). */
  readonly classes: string[];
  /** The console's domain name, e.g. `review.example.com` (its URL is `https://<domainName>/`). */
  readonly domainName: string;
  /**
   * The TLS certificate of `domainName`, in us-east-1 (CloudFront's certificates live there).
   * A custom domain is what lets CloudFront refuse TLS below 1.2.
   */
  readonly certificate: acm.ICertificate;
  /**
   * Prefix of the Cognito domain of the hosted UI: `https://<prefix>.auth.<region>.amazoncognito.com`.
   * The console creates this domain on the user pool; a user pool has at most one such domain, so
   * the pool must not have one yet. The prefix is unique per region across all accounts.
   */
  readonly cognitoDomainPrefix: string;
  /**
   * The Cognito group whose members may review (the ID token's `cognito:groups`).
   * @default 'reviewers'
   */
  readonly reviewerGroup?: string;
  /**
   * Views for record types, tried in order; the generic table view is always there.
   * @default - the table view only
   */
  readonly views?: ReviewConsoleView[];
  /**
   * ARN of a WAFv2 web ACL with scope CLOUDFRONT (in us-east-1) to put in front of the console.
   * @default - no web ACL
   */
  readonly webAclArn?: string;
  /**
   * ISO 3166-1 alpha-2 codes of the countries that may load the console.
   * @default - no geographic restriction
   */
  readonly allowedCountries?: string[];
  /**
   * Heading of the console.
   * @default 'Review console'
   */
  readonly title?: string;
  /**
   * What happens to the site bucket, the key and the log groups when the construct is removed.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Define the review console of a labeling pipeline: a static single-page app in a private S3
 * bucket (KMS, TLS only), served by CloudFront through origin access control on a custom domain
 * (TLS 1.2 or newer, HTTP/2 and 3), with strict security headers and a Content-Security-Policy
 * without 'unsafe-inline'. Reviewers sign in with the Cognito hosted UI of the pipeline's user
 * pool (authorization code flow with PKCE, a public app client); only members of the reviewer
 * group get in. The console calls the review API with the reviewer's ID token.
 *
 * The review API must allow the console's origin (`https://<domainName>`) in its CORS
 * configuration (`reviewApi.allowedOrigins` of LabelingPipeline).
 *
 * Python: the props are keyword arguments in snake case (`user_pool`, `api`, `classes`,
 * `domain_name`, `certificate`, `cognito_domain_prefix`, `reviewer_group`, `views`,
 * `web_acl_arn`, `allowed_countries`, `title`, `removal_policy`; a view is
 * `ReviewConsoleView(name=..., file=...)`), and the members read `user_pool_client`,
 * `user_pool_domain`, `encryption_key`.
 *
 * @example
 * import { CfnOutput, Stack } from 'aws-cdk-lib';
 * import * as acm from 'aws-cdk-lib/aws-certificatemanager';
 * import { LabelingPipeline, ReviewConsole } from 'cdk-secure-mlops';
 *
 * declare const stack: Stack;
 * declare const pipeline: LabelingPipeline;
 *
 * const certificate = acm.Certificate.fromCertificateArn(stack, 'Certificate',
 *   'arn:aws:acm:us-east-1:111111111111:certificate/0f0e0d0c-0b0a-4909-8807-060504030201');
 * const reviewConsole = new ReviewConsole(stack, 'ReviewConsole', {
 *   userPool: pipeline.reviewUserPool!,
 *   api: pipeline.reviewRestApi!,
 *   classes: ['normal', 'mild', 'moderate'],
 *   domainName: 'review.example.com',
 *   certificate,
 *   cognitoDomainPrefix: 'example-review',
 *   views: [{ name: 'Audiogram', file: 'build/views/audiogram.js' }],
 * });
 * // The review API must allow exactly reviewConsole.origin (LabelingPipeline reviewApi.allowedOrigins).
 * new CfnOutput(stack, 'ReviewConsoleUrl', { value: reviewConsole.url });
 */
export class ReviewConsole extends Construct {
  /** The bucket that holds the console's files. */
  public readonly bucket: s3.IBucket;
  /** The key of the bucket and the deployment's log group. */
  public readonly encryptionKey: kms.IKey;
  /** The CloudFront distribution. */
  public readonly distribution: cloudfront.IDistribution;
  /** The Cognito app client of the console. */
  public readonly userPoolClient: cognito.IUserPoolClient;
  /** The Cognito domain of the hosted UI. */
  public readonly userPoolDomain: cognito.IUserPoolDomain;
  /** `https://<domainName>` (the origin to allow in the review API's CORS). */
  public readonly origin: string;
  /** `https://<domainName>/` */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: ReviewConsoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    checkProps(this, props);
    if (!fs.existsSync(path.join(WEB_DIR, 'console.js'))) {
      throw new Error(`cdk-secure-mlops: the built review console is missing at ${WEB_DIR} (run \`npx projen bundle\` when working on the library)`);
    }
    this.origin = `https://${props.domainName}`;
    this.url = `${this.origin}/`;

    const key = new kms.Key(this, 'Key', {
      enableKeyRotation: true,
      description: `${this.node.path}: encrypts the review console's files and deployment logs`,
      removalPolicy,
    });
    allowLogsService(key);
    this.encryptionKey = key;

    // Access logs of the site bucket and the distribution. S3 server access logs and CloudFront
    // standard logs are delivered to SSE-S3 buckets only; CloudFront's needs ACLs (its log
    // delivery writes with the bucket owner's full control).
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      versioned: true,
      lifecycleRules: [{ id: 'Logs', abortIncompleteMultipartUploadAfter: Duration.days(7), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy,
    });

    const bucket = new s3.Bucket(this, 'Site', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [{ id: 'OldVersions', abortIncompleteMultipartUploadAfter: Duration.days(7), noncurrentVersionExpiration: Duration.days(30) }],
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'site/',
      removalPolicy,
    });
    this.bucket = bucket;

    const domain = new cognito.UserPoolDomain(this, 'SignInDomain', {
      userPool: props.userPool,
      cognitoDomain: { domainPrefix: props.cognitoDomainPrefix },
    });
    this.userPoolDomain = domain;
    const client = new cognito.UserPoolClient(this, 'AppClient', {
      userPool: props.userPool,
      // A public client (the browser cannot keep a secret): authorization code flow with PKCE.
      generateSecret: false,
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
        callbackUrls: [this.url],
        logoutUrls: [this.url],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
    this.userPoolClient = client;

    const apiOrigin = `https://${props.api.restApiId}.execute-api.${stack.region}.${Aws.URL_SUFFIX}`;
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Review console: strict security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleContentSecurityPolicy([apiOrigin, domain.baseUrl()]), override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [
          { header: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()', override: true },
          { header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true },
          { header: 'Cross-Origin-Resource-Policy', value: 'same-origin', override: true },
        ],
      },
      removeHeaders: ['Server'],
    });

    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `${this.node.path}: review console`,
      defaultRootObject: 'index.html',
      domainNames: [props.domainName],
      certificate: props.certificate,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      sslSupportMethod: cloudfront.SSLMethod.SNI,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      webAclId: props.webAclArn,
      geoRestriction: props.allowedCountries ? cloudfront.GeoRestriction.allowlist(...props.allowedCountries) : undefined,
      enableLogging: true,
      logBucket: accessLogs,
      logFilePrefix: 'cloudfront/',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        compress: true,
      },
    });
    this.distribution = distribution;

    const config = {
      apiUrl: props.api.deploymentStage.urlForPath(props.apiBasePath ?? '/'),
      auth: {
        domain: domain.baseUrl(),
        clientId: client.userPoolClientId,
        redirectUri: this.url,
        reviewerGroup: props.reviewerGroup ?? 'reviewers',
        scopes: ['openid', 'email'],
      },
      classes: props.classes,
      title: props.title ?? 'Review console',
      views: (props.views ?? []).map((v) => ({ name: v.name, module: `views/${path.basename(v.file)}` })),
    };

    this.deploy(props, config, bucket, key, removalPolicy);
    // The distribution reads the files only once they are there.
    distribution.node.addDependency(this.node.findChild('Deployment'));

    acknowledgeReviewed(this, reviewConsoleAcknowledgments(props));
  }
  /**
   * The console's files (assets) and config.json, written into the site bucket by the library's
   * own deployment handler (explicit actions on exact object ARNs; no wildcard actions).
   */
  private deploy(props: ReviewConsoleProps, config: object, bucket: s3.Bucket, key: kms.Key, removalPolicy: RemovalPolicy): void {
    const contentType = (file: string) => CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    const sources: Array<{ id: string; file: string; target: string }> = [
      ...WEB_FILES.map((f) => ({ id: `Web${f.id}`, file: path.join(WEB_DIR, f.name), target: f.name })),
      ...(props.views ?? []).map((v, i) => ({ id: `View${i}`, file: v.file, target: `views/${path.basename(v.file)}` })),
    ];
    const { role, logGroup } = defineHandlerRole(this, {
      roleId: 'DeployRole',
      logGroupId: 'DeployLogs',
      description: `${this.node.path}: copies the console's files and writes config.json into the site bucket`,
      logsKey: key,
      retention: logs.RetentionDays.ONE_YEAR,
    });
    (logGroup.node.defaultChild as logs.CfnLogGroup).applyRemovalPolicy(removalPolicy);
    const files: DeployFile[] = sources.map((s) => {
      const asset = new s3assets.Asset(this, s.id, { path: s.file });
      // Read exactly this asset object; nothing else of the assets bucket.
      role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)] }));
      return { sourceBucket: asset.s3BucketName, sourceKey: asset.s3ObjectKey, target: s.target, contentType: contentType(s.file) };
    });
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [...files.map((f) => bucket.arnForObjects(f.target)), bucket.arnForObjects('config.json')],
    }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }));
    const fn = new lambda.Function(this, 'DeployHandler', {
      description: 'src/review-console/runtime/deploy.handler.ts',
      runtime: handlerRuntime(this),
      handler: 'index.handler',
      code: handlerCode(this, 'review-console', 'deploy'),
      role,
      logGroup,
      memorySize: 256,
      timeout: Duration.minutes(2),
      ...handlerDefaults({}),
      environment: { [DEPLOY_ENV.siteBucket]: bucket.bucketName, [DEPLOY_ENV.siteKeyArn]: key.keyArn },
    });
    const properties: DeployProperties = { files, config: Stack.of(this).toJsonString(config) };
    const deployment = new CustomResource(this, 'Deployment', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::ReviewConsoleDeployment',
      properties,
    });
    // The handler runs with its whole policy in place.
    deployment.node.addDependency(role);
  }
}

/** The built console's files and their construct ids (part of the construct contract). */
const WEB_FILES = [
  { id: 'Index', name: 'index.html' },
  { id: 'Script', name: 'console.js' },
  { id: 'Styles', name: 'console.css' },
];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
};

function checkProps(scope: IConstruct, props: ReviewConsoleProps): void {
  if (!Array.isArray(props.classes) || props.classes.length === 0 || props.classes.some((c) => typeof c !== 'string' || c === '')) {
    invalidProp(scope, 'classes', props.classes, 'give the label task\'s classes, in order (non-empty strings)');
  }
  if (new Set(props.classes).size !== props.classes.length) invalidProp(scope, 'classes', props.classes, 'each class once');
  if (!Token.isUnresolved(props.domainName) && !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(props.domainName)) {
    invalidProp(scope, 'domainName', props.domainName, 'give a lower-case DNS name such as review.example.com');
  }
  const prefix = props.cognitoDomainPrefix;
  if (!Token.isUnresolved(prefix) && (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(prefix) || /aws|amazon|cognito/.test(prefix))) {
    invalidProp(scope, 'cognitoDomainPrefix', prefix, 'give lower-case letters, digits and hyphens (up to 63), without "aws", "amazon" or "cognito"');
  }
  const certArn = props.certificate.certificateArn;
  if (!Token.isUnresolved(certArn) && !/^arn:[a-z-]+:acm:us-east-1:/.test(certArn)) {
    invalidProp(scope, 'certificate', certArn, 'CloudFront uses certificates from us-east-1: create or import the certificate there');
  }
  if (props.webAclArn !== undefined && !Token.isUnresolved(props.webAclArn) && !/^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[^/]+\/[^/]+$/.test(props.webAclArn)) {
    invalidProp(scope, 'webAclArn', props.webAclArn, 'give the ARN of a WAFv2 web ACL with scope CLOUDFRONT (arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)');
  }
  if (props.allowedCountries && (props.allowedCountries.length === 0 || props.allowedCountries.some((c) => !/^[A-Z]{2}$/.test(c)))) {
    invalidProp(scope, 'allowedCountries', props.allowedCountries, 'give ISO 3166-1 alpha-2 codes such as "DE", or leave the prop out');
  }
  const names = new Set<string>();
  for (const v of props.views ?? []) {
    if (!v.name || !/\.m?js$/.test(v.file) || !fs.existsSync(v.file)) {
      invalidProp(scope, 'views', v, 'each view needs a name and the path of an existing .js file (a bundled ES module)');
    }
    const base = path.basename(v.file);
    if (names.has(base)) invalidProp(scope, 'views', v, 'view files must have different file names (each is served as views/<file name>)');
    names.add(base);
  }
}

/** The reviewed acknowledgments of the console's resources. */
function reviewConsoleAcknowledgments(props: ReviewConsoleProps): ReviewedAcknowledgment[] {
  const entries: ReviewedAcknowledgment[] = [
    { at: /^AccessLogs\/Resource$/, ids: compliance('S3DefaultEncryptionKMS'), reason: `${REASON.accessLogSse} CloudFront standard logs are delivered the same way.` },
    { at: /^(AccessLogs|Site)\/Resource$/, ids: compliance('S3BucketReplicationEnabled'), reason: REASON.replication },
  ];
  // The deployment handler, a Lambda-backed custom resource that CloudFormation invokes.
  entries.push(
    { at: /^DeployRole\/DefaultPolicy\/Resource$/, ids: [iam5Resource('*')], reason: REASON.xray },
    { at: /^DeployRole\/DefaultPolicy\/Resource$/, ids: compliance('IAMNoInlinePolicy'), reason: REASON.inlinePolicy },
    { at: /^DeployHandler\/Resource$/, ids: [...compliance('LambdaDLQ'), 'Serverless-LambdaDLQ'], reason: REASON.customResourceDlq },
    { at: /^DeployHandler\/Resource$/, ids: [...compliance('LambdaConcurrency'), ...compliance('LambdaInsideVPC')], reason: REASON.customResourceIsolation },
  );
  if (props.webAclArn === undefined) entries.push({ at: /^Distribution\/Resource$/, ids: ['AwsSolutions-CFR2'], reason: REASON.cloudFrontWaf });
  if (props.allowedCountries === undefined) entries.push({ at: /^Distribution\/Resource$/, ids: ['AwsSolutions-CFR1'], reason: REASON.cloudFrontGeo });
  return entries;
}
