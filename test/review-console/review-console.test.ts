import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { ReviewConsole, ReviewConsoleProps } from '../../src/review-console';
import { consoleContentSecurityPolicy } from '../../src/review-console/security-headers';

const ENV = { account: '111111111111', region: 'eu-central-1' };
const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/0f0e0d0c-0b0a-4909-8807-060504030201';
const WEB_ACL = 'arn:aws:wafv2:us-east-1:111111111111:global/webacl/review-console/0f0e0d0c-0b0a-4909-8807-060504030201';

function build(over: Partial<ReviewConsoleProps> = {}) {
  const stack = new Stack(new App(), 'Console', { env: ENV });
  const userPool = new cognito.UserPool(stack, 'Pool');
  const api = new apigw.RestApi(stack, 'Api');
  api.root.addResource('reviews').addMethod('GET', new apigw.MockIntegration());
  const certificate = acm.Certificate.fromCertificateArn(stack, 'Certificate', CERT);
  const console_ = new ReviewConsole(stack, 'ReviewConsole', {
    userPool, api, certificate, classes: ['normal', 'mild'], domainName: 'review.example.com', cognitoDomainPrefix: 'example-review', ...over,
  });
  return { stack, console: console_, template: Template.fromStack(stack) };
}

describe('ReviewConsole', () => {
  const { stack, template, console: rc } = build();

  test('a Content-Security-Policy without unsafe-inline, and strict security headers', () => {
    const policy = template.findResources('AWS::CloudFront::ResponseHeadersPolicy');
    const config = Object.values(policy)[0].Properties.ResponseHeadersPolicyConfig;
    const csp = stack.resolve(config.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy);
    const text = JSON.stringify(csp);
    expect(text).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(text).toContain("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self' https://");
    expect(text).toContain('.execute-api.eu-central-1.');
    expect(text).toContain('.auth.eu-central-1.amazoncognito.com');
    expect(text).toContain("form-action 'none'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'");
    expect(config.SecurityHeadersConfig).toMatchObject({
      ContentSecurityPolicy: { Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Preload: true, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
    });
  });

  test('the CSP builder: self, the API and the sign-in origins, nothing inline', () => {
    expect(consoleContentSecurityPolicy(['https://api.example.com', 'https://auth.example.com'])).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
      + "connect-src 'self' https://api.example.com https://auth.example.com; manifest-src 'self'; form-action 'none'; base-uri 'none'; "
      + "frame-ancestors 'none'; object-src 'none'; upgrade-insecure-requests");
  });

  test('CloudFront: the custom domain, TLS 1.2 or newer, HTTPS only, logging, origin access control', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['review.example.com'],
        DefaultRootObject: 'index.html',
        ViewerCertificate: { AcmCertificateArn: CERT, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' },
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'] }),
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } })],
      }),
    });
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' }),
    });
    const dist = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0].Properties.DistributionConfig;
    expect(dist.WebACLId).toBeUndefined();
    expect(dist.Restrictions).toBeUndefined();
  });

  test('a private, KMS-encrypted, TLS-only site bucket that only the distribution reads', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) })] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    const policies = JSON.stringify(template.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toContain('"Service":"cloudfront.amazonaws.com"');
    expect(policies).toContain('AWS:SourceArn');
    expect(policies).toContain('"aws:SecureTransport":"false"');
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('the app client: authorization code flow (PKCE in the app), no secret, the console as callback', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email'],
      CallbackURLs: ['https://review.example.com/'],
      LogoutURLs: ['https://review.example.com/'],
      SupportedIdentityProviders: ['COGNITO'],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'example-review' });
    expect(rc.origin).toBe('https://review.example.com');
  });

  test('a web ACL and a country allowlist when given', () => {
    const { template: t } = build({ webAclArn: WEB_ACL, allowedCountries: ['DE', 'AT'] });
    t.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ WebACLId: WEB_ACL, Restrictions: { GeoRestriction: { RestrictionType: 'whitelist', Locations: ['DE', 'AT'] } } }),
    });
  });

  test.each([
    ['the certificate is not in us-east-1', { certificate: acm.Certificate.fromCertificateArn(new Stack(), 'C', CERT.replace('us-east-1', 'eu-central-1')) }, /invalid certificate: .*us-east-1/],
    ['there are no classes', { classes: [] }, /invalid classes: received \[\]/],
    ['a class repeats', { classes: ['a', 'a'] }, /invalid classes: .*each class once/],
    ['the domain name is not one', { domainName: 'https://review.example.com/' }, /invalid domainName: received "https:\/\/review.example.com\/"/],
    ['the Cognito prefix has a reserved word', { cognitoDomainPrefix: 'my-cognito' }, /invalid cognitoDomainPrefix: .*without "aws", "amazon" or "cognito"/],
    ['the web ACL is regional', { webAclArn: WEB_ACL.replace('us-east-1:111111111111:global', 'eu-central-1:111111111111:regional') }, /invalid webAclArn: .*scope CLOUDFRONT/],
    ['a country is not a code', { allowedCountries: ['Germany'] }, /invalid allowedCountries/],
    ['a view file is missing', { views: [{ name: 'Audiogram', file: path.join(os.tmpdir(), 'no-such-dir', 'audiogram.js') }] }, /invalid views: .*existing \.js file/],
  ])('fails if %s', (_, over, message) => {
    expect(() => build(over as Partial<ReviewConsoleProps>)).toThrow(message);
  });

  test('views are deployed beside the console and listed in config.json', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'review-console-view-'));
    const file = path.join(dir, 'audiogram.js');
    fs.writeFileSync(file, 'export function matches() { return true; }\nexport function render() {}\n');
    const { template: t } = build({ views: [{ name: 'Audiogram', file }] });
    const deployment = Object.values(t.findResources('Custom::ReviewConsoleDeployment'))[0].Properties;
    expect(deployment.files.map((f: { target: string; contentType: string }) => [f.target, f.contentType])).toEqual([
      ['index.html', 'text/html; charset=utf-8'],
      ['console.js', 'text/javascript; charset=utf-8'],
      ['console.css', 'text/css; charset=utf-8'],
      ['views/audiogram.js', 'text/javascript; charset=utf-8'],
    ]);
    const config = JSON.stringify(deployment.config);
    expect(config).toContain('views/audiogram.js');
    expect(config).toContain('\\"reviewerGroup\\":\\"reviewers\\"');
    // The handler may write exactly these objects and read exactly the four assets.
    const policy = JSON.stringify(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('DeployRole') } }));
    expect(policy).toContain('/views/audiogram.js');
    expect(policy).toContain('/config.json');
    expect(policy).not.toMatch(/"s3:[A-Za-z]*\*"|\/\*"/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
