import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ApiAuthorization } from './api-authorization';

/**
 * How a construct exposes its route(s) on a REST API. Shared by every construct of the library
 * that serves clients, so one API can carry all routes.
 */
export interface SecureApiOptions {
  /**
   * An existing REST API to add the route to, so that clients get one base URL for every route.
   * Its stage settings (WAF, throttling, logging, CORS) stay the owner's.
   *
   * @default - a new regional REST API with WAF, throttling, access logs and X-Ray
   */
  readonly restApi?: apigw.IRestApi;

  /**
   * How callers authenticate.
   *
   * @default - a new Cognito user pool (admin-created users, MFA required, strong passwords,
   * Plus feature plan with threat protection enforced)
   */
  readonly authorization?: ApiAuthorization;

  /**
   * Browser origins allowed to call the new API (CORS). `*` is refused.
   *
   * @default - no CORS: native mobile clients and same-origin pages only
   */
  readonly allowedOrigins?: string[];

  /**
   * Steady-state requests per second of the new API's stage.
   *
   * @default 50
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst of requests of the new API's stage.
   *
   * @default 100
   */
  readonly throttlingBurstLimit?: number;

  /**
   * Requests per client IP address in any 5-minute window before WAF blocks it.
   *
   * @default 500
   */
  readonly wafRateLimit?: number;

  /**
   * How long API access logs, WAF logs and the handler's logs are kept.
   *
   * @default Duration.days(365)
   */
  readonly logRetention?: Duration;

  /**
   * The key that encrypts the log groups. Its policy must let CloudWatch Logs use it.
   *
   * @default - a new customer-managed key with rotation
   */
  readonly logsKey?: kms.IKey;

  /**
   * Set the account-wide API Gateway CloudWatch role (needed once per account and region for
   * execution logging). Turn off when your account already has one managed elsewhere.
   *
   * @default true
   */
  readonly manageAccountCloudWatchRole?: boolean;
}
