import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { everyConstruct } from './support/every-construct';

process.env.CDK_VALIDATION = 'false';

/** Every construct, with its defaults, in one stack. */
function everything(props: StackProps): Template {
  const stack = new Stack(new App(), 'Everything', props);
  everyConstruct(stack);
  return Template.fromStack(stack);
}

describe.each([
  ['a region-agnostic stack', {}],
  ['an environment-specific stack', { env: { account: '111111111111', region: 'eu-central-1' } }],
])('every construct synthesizes in %s', (_name, props) => {
  let template: Template;
  beforeAll(() => { template = everything(props); });

  test('the pipeline\'s ledger is encrypted with the pipeline\'s customer-managed key', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'));
    expect(tables).toHaveLength(1);
    const p = tables[0].Properties;
    expect(p.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
    expect(p.Replicas).toHaveLength(1);
    expect(p.Replicas[0].SSESpecification.KMSMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^HearingKey/), 'Arn'] });
  });

  test('every function and state machine is there', () => {
    // 7 handlers of the four constructs, the publish step, the capture writer, the drift job, the
    // promotion's check, the console's deployment handler (and aws-cdk-lib's helpers).
    expect(Object.keys(template.findResources('AWS::Lambda::Function')).length).toBeGreaterThanOrEqual(12);
    // Review, dataset, backfill, training, promotion.
    expect(Object.keys(template.findResources('AWS::StepFunctions::StateMachine')).length).toBe(5);
  });
});
