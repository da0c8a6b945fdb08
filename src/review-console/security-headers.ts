/**
 * The review console's Content-Security-Policy: scripts, styles, fonts and images from the
 * console's own origin only (no 'unsafe-inline', no 'unsafe-eval'), network calls to the console,
 * the review API and the Cognito domain only, no forms, no frames, no plugins.
 *
 * Pure (no aws-cdk-lib): the construct's response headers policy and the local console server
 * build the header the same way. Origins may be CloudFormation tokens.
 *
 * @internal
 */
export function consoleContentSecurityPolicy(connectOrigins: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${["'self'", ...connectOrigins].join(' ')}`,
    "manifest-src 'self'",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    'upgrade-insecure-requests',
  ].join('; ');
}
