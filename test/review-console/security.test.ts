import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { LabelingPipeline, SecureDataLake } from '../../src';
import { ReviewConsole } from '../../src/review-console';
import { hearingPipelineProps } from '../labeling-pipeline/pipeline-fixture';
import { createSecurityTestApp, expectNoUnacknowledgedFindings, formatSecurityReport, runSecurityChecks, SecurityReport } from '../support/security-harness';
import { useTemplateScans } from '../support/template-scanners';

/**
 * Both configurations of the console pass the gating cdk-nag packs with the library's reviewed
 * acknowledgments only (REASON in src/private/acknowledgments.ts), and cfn-lint and checkov (its
 * reviewed list, test/support/checkov-accepted.ts) over the same templates.
 */

const ENV = { account: '111111111111', region: 'eu-central-1' };
const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/0f0e0d0c-0b0a-4909-8807-060504030201';
const scan = useTemplateScans();
const keep = (report: SecurityReport) => scan(report.templateFiles);

function pipelineStack(name: string) {
  const app = createSecurityTestApp();
  const stack = new Stack(app, name, { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  const pipeline = new LabelingPipeline(stack, 'Hearing', { lake, ...hearingPipelineProps(), reviewApi: { allowedOrigins: ['https://review.example.com'] } });
  const certificate = acm.Certificate.fromCertificateArn(stack, 'Certificate', CERT);
  return { app, stack, pipeline, certificate };
}

describe('ReviewConsole', () => {
  test('minimal configuration: zero unacknowledged findings', () => {
    const { app, stack, pipeline, certificate } = pipelineStack('ReviewConsoleMinimal');
    new ReviewConsole(stack, 'ReviewConsole', {
      userPool: pipeline.reviewUserPool!,
      api: pipeline.reviewRestApi!,
      classes: ['normal', 'mild', 'moderate'],
      domainName: 'review.example.com',
      certificate,
      cognitoDomainPrefix: 'example-review',
    });
    const report = runSecurityChecks(app, { name: 'review-console-minimal' });
    keep(report);
    console.log(formatSecurityReport(report));
    expectNoUnacknowledgedFindings(report);
  });

  test('maximal configuration: zero unacknowledged findings', () => {
    const { app, stack, pipeline, certificate } = pipelineStack('ReviewConsoleMaximal');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'review-console-view-'));
    fs.writeFileSync(path.join(dir, 'audiogram.js'), 'export function matches() { return true; }\nexport function render() {}\n');
    new ReviewConsole(stack, 'ReviewConsole', {
      userPool: pipeline.reviewUserPool!,
      api: pipeline.reviewRestApi!,
      classes: ['normal', 'mild', 'moderate'],
      domainName: 'review.example.com',
      certificate,
      cognitoDomainPrefix: 'example-review',
      reviewerGroup: 'audiologists',
      views: [{ name: 'Audiogram', file: path.join(dir, 'audiogram.js') }],
      webAclArn: 'arn:aws:wafv2:us-east-1:111111111111:global/webacl/review-console/0f0e0d0c-0b0a-4909-8807-060504030201',
      allowedCountries: ['DE', 'AT', 'CH'],
      title: 'Audiogram review',
    });
    const report = runSecurityChecks(app, { name: 'review-console-maximal' });
    keep(report);
    console.log(formatSecurityReport(report));
    expectNoUnacknowledgedFindings(report);
  });
});
