/**
 * Stacks with a lake, a ServerlessModelEndpoint and a ModelPromotion for the tests of this folder,
 * and the synthesized promotion definition with its intrinsics resolved to readable values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ModelPromotion, ModelPromotionProps } from '../../src/model-promotion';
import { SecureDataLake } from '../../src/secure-data-lake/secure-data-lake';
import { ModelArtifact } from '../../src/serverless-model-endpoint/model-artifact';
import { ServerlessModelEndpoint } from '../../src/serverless-model-endpoint/serverless-model-endpoint';
import { definitionOf } from '../gpu-training-job/definition-checks';
import { logicalId, readableToken } from '../gpu-training-job/training-fixture';

export const ENV = { account: '111111111111', region: 'eu-central-1' };
const MODEL_DIR = path.join(__dirname, '..', 'fixtures', 'models');
export const META = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8'));
export const MODEL_NAME = 'hearing-who-grade';

export interface PromotionFixture {
  readonly app: App;
  readonly stack: Stack;
  readonly lake: SecureDataLake;
  readonly endpoint: ServerlessModelEndpoint;
  readonly promotion: ModelPromotion;
  readonly template: Template;
}

export type PartialPromotionProps = Partial<Omit<ModelPromotionProps, 'endpoint' | 'lake'>>;

/** A stack with a lake, an endpoint serving the fixture model and a promotion with the given props. */
export function promotionStack(
  props: PartialPromotionProps | ((stack: Stack) => PartialPromotionProps) = {},
  app = new App({ context: { 'aws:cdk:bundling-stacks': [] } }),
  extend: (promotion: ModelPromotion, stack: Stack) => void = () => undefined,
): PromotionFixture {
  const stack = new Stack(app, 'Promotion', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  const endpoint = new ServerlessModelEndpoint(stack, 'Predict', {
    model: ModelArtifact.fromDataLake(lake, `${MODEL_NAME}/models/first/model.onnx`, { version: `${MODEL_NAME}@1`, classNames: META.classNames, sha256: META.sha256 }),
  });
  const extra = typeof props === 'function' ? props(stack) : props;
  const promotion = new ModelPromotion(stack, 'Promotion', { endpoint, lake, modelName: MODEL_NAME, ...extra });
  extend(promotion, stack);
  return { app, stack, lake, endpoint, promotion, template: Template.fromStack(stack) };
}

/** The promotion's state machine definition with readable intrinsics. */
export function promotionDefinition(f: PromotionFixture): Record<string, any> {
  const id = logicalId(f.template, 'AWS::StepFunctions::StateMachine', 'PromotionStateMachine');
  return definitionOf(f.template.toJSON().Resources[id], readableToken);
}

/** The models bucket's name as `readableToken` writes it. */
export function modelsBucketName(f: PromotionFixture): string {
  return logicalId(f.template, 'AWS::S3::Bucket', 'LakeModels').toLowerCase();
}
