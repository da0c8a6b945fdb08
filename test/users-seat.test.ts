import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import { everyConstruct } from './support/every-construct';

/**
 * What a user sees: cdk-nag's packs registered on the App as the user registers them
 * (`Validations.of(app).addPlugins(...)`), every construct of the library beside resources of the user's
 * own that break the same rules the library acknowledges on its resources. aws-cdk-lib's validation
 * report must show findings on the user's resources and none on the library's (some aws-cdk-lib
 * releases applied an acknowledgment app-wide by id: this would catch it).
 */
interface Violation { readonly ruleName: string; readonly violatingConstructs: Array<{ readonly constructPath: string }> }

function synthAsUser(region?: string): { byPath: Map<string, Set<string>> } {
  const app = new App({ context: { [cxapi.FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app), new NIST80053R5Checks(app), new ServerlessChecks(app));
  const stack = new Stack(app, 'UserStack', region ? { env: { account: '111111111111', region } } : {});
  everyConstruct(stack);

  // The user's own resources, non-compliant on purpose.
  new s3.Bucket(stack, 'UserBucket');
  const fn = new lambda.Function(stack, 'UserFunction', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    timeout: Duration.seconds(3),
  });
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));

  const assembly = app.synth();
  const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, cxapi.VALIDATION_REPORT_FILE), 'utf8')) as { pluginReports: Array<{ violations: Violation[] }> };
  const byPath = new Map<string, Set<string>>();
  for (const v of report.pluginReports.flatMap((r) => r.violations)) {
    for (const c of v.violatingConstructs) byPath.set(c.constructPath, (byPath.get(c.constructPath) ?? new Set()).add(v.ruleName));
  }
  return { byPath };
}

describe.each([['region-agnostic', undefined], ['environment-specific', 'eu-central-1']])('a user\'s own cdk-nag run (%s stack)', (_name, region) => {
  let byPath: Map<string, Set<string>>;
  beforeAll(() => { ({ byPath } = synthAsUser(region)); });

  const onUser = (prefix: string) => [...byPath].filter(([p]) => p.startsWith(`UserStack/${prefix}`)).flatMap(([, rules]) => [...rules]);

  test('reports nothing on the library\'s resources', () => {
    const library = [...byPath].filter(([p]) => /^UserStack\/(Lake|Uploads|Predict|Hearing|Training)(\/|$)/.test(p)).map(([p, rules]) => `${p}: ${[...rules].join(', ')}`);
    expect(library).toEqual([]);
  });

  test('still reports the user\'s own bucket, function and wildcard policy on the rules the library acknowledges for itself', () => {
    expect(onUser('UserBucket')).toEqual(expect.arrayContaining(['HIPAA.Security-S3BucketReplicationEnabled', 'NIST.800.53.R5-S3BucketReplicationEnabled']));
    expect(onUser('UserFunction')).toEqual(expect.arrayContaining([
      'HIPAA.Security-LambdaDLQ', 'NIST.800.53.R5-LambdaDLQ', 'Serverless-LambdaDLQ',
      'HIPAA.Security-LambdaConcurrency', 'HIPAA.Security-LambdaInsideVPC',
      'AwsSolutions-IAM5[Resource::*]', 'HIPAA.Security-IAMNoInlinePolicy',
    ]));
  });
});
