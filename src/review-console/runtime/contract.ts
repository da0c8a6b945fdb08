/**
 * What ReviewConsole and its deployment handler both read: the custom resource's properties and
 * the handler's environment. No aws-cdk-lib here: the handler bundles this file.
 */

/** Environment variables of the deployment handler. */
export const DEPLOY_ENV = {
  /** The site bucket (the console's files are written there). */
  siteBucket: 'SITE_BUCKET',
  /** ARN of the site bucket's KMS key (SSE-KMS on every PutObject / CopyObject). */
  siteKeyArn: 'SITE_KEY_ARN',
} as const;

/** One file to place: an asset object, copied to `target` in the site bucket. */
export interface DeployFile {
  readonly sourceBucket: string;
  readonly sourceKey: string;
  /** Object key in the site bucket (`index.html`, `views/audiogram.js`). */
  readonly target: string;
  readonly contentType: string;
}

/** The custom resource's properties (`ResourceProperties`, less `ServiceToken`). */
export interface DeployProperties {
  readonly files: DeployFile[];
  /** The text of config.json. */
  readonly config: string;
}

/** Object key of the configuration the console reads. */
export const CONFIG_KEY = 'config.json';

/** Cache-Control of every object: browsers and CloudFront revalidate, so a deployment shows at once. */
export const CACHE_CONTROL = 'no-cache';
