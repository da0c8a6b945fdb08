import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MONITORING_KEYS } from '../../src/contract/monitoring';
import { DataZone } from '../../src/secure-data-lake/data-zone';
import { SecureDataLake, SecureDataLakeProps } from '../../src/secure-data-lake/secure-data-lake';

/**
 * Prediction captures (ServerlessModelEndpoint `capture`) hold the inputs of predictions: the lake
 * expires them under `monitoring/captures/` of the models zone, and nowhere else.
 */
function rules(props: SecureDataLakeProps = {}) {
  const stack = new Stack(new App(), 'Lake', { env: { account: '111111111111', region: 'eu-central-1' } });
  const lake = new SecureDataLake(stack, 'Lake', props);
  const resources = Template.fromStack(stack).toJSON().Resources;
  return (zone: DataZone): any[] => resources[stack.getLogicalId(lake.bucket(zone).node.defaultChild as any)].Properties.LifecycleConfiguration.Rules;
}

test('by default, captures in the models zone expire after 90 days', () => {
  const of = rules();
  expect(MONITORING_KEYS.capturesRoot).toBe('monitoring/captures/');
  expect(of(DataZone.MODELS).filter((r) => r.Id === 'PredictionCaptures')).toEqual([
    { Id: 'PredictionCaptures', Status: 'Enabled', Prefix: 'monitoring/captures/', ExpirationInDays: 90 },
  ]);
});

test('the rule is on the models zone only, and expires nothing else there', () => {
  const of = rules();
  for (const zone of [DataZone.RAW, DataZone.CLEAN, DataZone.CURATED, DataZone.QUARANTINE]) {
    expect([zone, of(zone).some((r) => r.Id === 'PredictionCaptures' || r.ExpirationInDays !== undefined)]).toEqual([zone, false]);
  }
  // model artifacts, records and baselines never expire: the only expiration is prefixed
  const expiring = of(DataZone.MODELS).filter((r) => r.ExpirationInDays !== undefined);
  expect(expiring.map((r) => r.Prefix)).toEqual(['monitoring/captures/']);
});

test('predictionCaptureExpiration sets the days', () => {
  const of = rules({ predictionCaptureExpiration: Duration.days(30) });
  expect(of(DataZone.MODELS)).toEqual(expect.arrayContaining([expect.objectContaining({ Id: 'PredictionCaptures', ExpirationInDays: 30 })]));
});

test.each([
  [Duration.hours(36), 'expected whole days, at least 1'],
  [Duration.hours(12), 'expected whole days, at least 1'],
])('a capture expiration that is not whole days (%s) is refused, naming the prop', (duration, expected) => {
  expect(() => rules({ predictionCaptureExpiration: duration })).toThrow(
    new RegExp(`^Lake/Lake: invalid predictionCaptureExpiration: received .*; ${expected}$`));
});
