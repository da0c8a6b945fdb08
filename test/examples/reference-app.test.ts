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

test('one REST API with one Cognito authorizer serves upload, review and predict', () => {
  template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
  template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
  template.resourceCountIs('AWS::Cognito::UserPool', 1);
  const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter((m) => m.Properties.HttpMethod !== 'OPTIONS');
  expect(methods.map((m) => m.Properties.HttpMethod).sort()).toEqual(['GET', 'POST', 'POST', 'POST']);
  for (const m of methods) expect(m.Properties.AuthorizationType).toBe('COGNITO_USER_POOLS');
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
