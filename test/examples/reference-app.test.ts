import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ReferenceAppStack } from '../../examples/reference-app/app';
import { createSecurityTestApp, expectNoUnacknowledgedFindings, formatSecurityReport, runSecurityChecks } from '../support/security-harness';
import { useTemplateScans } from '../support/template-scanners';

/**
 * The reference app (examples/reference-app/app.ts) through the security packs, the
 * CloudFormation validator, cfn-lint and checkov, plus what the app promises its client.
 */
const scan = useTemplateScans();
// Packaging of the endpoint's zip is covered by its own tests; here only the template matters.
const app = createSecurityTestApp({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new ReferenceAppStack(app, 'ReferenceApp', { env: { account: '111111111111', region: 'eu-central-1' } });
const report = runSecurityChecks(app, { name: 'reference-app' });
const template = Template.fromStack(stack as Stack);

test('zero unacknowledged findings in the gating packs and the CloudFormation validator; cfn-lint and checkov clean', () => {
  scan(report.templateFiles);
  console.log(formatSecurityReport(report));
  expectNoUnacknowledgedFindings(report);
});

test('one user pool signs everyone in: the client REST API serves upload and predict, the review API (its own) review', () => {
  template.resourceCountIs('AWS::Cognito::UserPool', 1);
  template.resourceCountIs('AWS::ApiGateway::RestApi', 2);
  const authorizers = Object.values(template.findResources('AWS::ApiGateway::Authorizer'));
  expect(authorizers).toHaveLength(2);
  const pool = stack.resolve(stack.uploads.userPool!.userPoolArn);
  for (const a of authorizers) expect(a.Properties.ProviderARNs).toEqual([pool]);
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter((m) => m.Properties.HttpMethod !== 'OPTIONS');
  expect(methods.map((m) => m.Properties.HttpMethod).sort()).toEqual(['GET', 'POST', 'POST', 'POST']);
  for (const m of methods) expect(m.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
  const reviewApi = JSON.stringify(stack.resolve(stack.pipeline.reviewRestApi!.restApiId));
  const reviewMethods = methods.filter((m) => JSON.stringify(m.Properties.RestApiId) === reviewApi);
  expect(reviewMethods.map((m) => m.Properties.HttpMethod).sort()).toEqual(['GET', 'POST']);
});

test('the review API\'s CORS allows exactly the review console\'s origin (preflight and the handler)', () => {
  const origin = stack.reviewConsole.origin;
  expect(origin).toBe('https://review.hearing-test.example.com');
  const reviewApi = JSON.stringify(stack.resolve(stack.pipeline.reviewRestApi!.restApiId));
  const preflights = Object.values(template.findResources('AWS::ApiGateway::Method'))
    .filter((m) => m.Properties.HttpMethod === 'OPTIONS' && JSON.stringify(m.Properties.RestApiId) === reviewApi);
  expect(preflights.length).toBeGreaterThan(0);
  for (const m of preflights) {
    const allowed = m.Properties.Integration.IntegrationResponses.map((r: any) => r.ResponseParameters['method.response.header.Access-Control-Allow-Origin']);
    expect(allowed).toEqual([`'${origin}'`]);
  }
  const handlers = Object.values(template.findResources('AWS::Lambda::Function'))
    .filter((f) => f.Properties.Environment?.Variables?.REVIEW_API_SETTINGS !== undefined);
  expect(handlers.map((f) => f.Properties.Environment.Variables.ALLOWED_ORIGINS)).toEqual([JSON.stringify([origin])]);
});

test('a published dataset version of the hearing pipeline starts the training job', () => {
  const rules = Object.values(template.findResources('AWS::Events::Rule'));
  const trigger = rules.find((r) => JSON.stringify(r.Properties.EventPattern ?? {}).includes('Dataset Version Published'));
  expect(trigger?.Properties.EventPattern).toMatchObject({ source: ['cdk-secure-mlops.labeling-pipeline'], detail: expect.objectContaining({ pipeline: ['hearing'] }) });
  expect(JSON.stringify(trigger?.Properties.Targets)).toMatch(/TrainingStateMachine/);
});

test('a dashboard covers the whole flow', () => {
  template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
  for (const title of ['Records by outcome', 'Dead letters', 'Dataset versions and reviews', 'Training runs', 'Predictions', 'Alarms']) expect(body).toContain(title);
});
