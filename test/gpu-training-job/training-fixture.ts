/**
 * Stacks with a GpuTrainingJob for the tests of this folder, and the synthesized definition with
 * its intrinsics resolved to readable values.
 */
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { definitionOf } from './definition-checks';
import { GpuTrainingJob, GpuTrainingJobProps, MetricComparison, TrainingImage } from '../../src/gpu-training-job';
import { SecureDataLake } from '../../src/secure-data-lake/secure-data-lake';

export const ENV = { account: '111111111111', region: 'eu-central-1' };
export const IMAGE_DIR = path.join(__dirname, '..', '..', 'examples', 'training', 'hearing-who-grade');
export const METRICS = [
  { name: 'validation:accuracy', regex: 'validation_accuracy=([0-9.]+)' },
  { name: 'validation:loss', regex: 'validation_loss=([0-9.]+)' },
];
export const GATES = [
  { metricName: 'validation:accuracy', comparison: MetricComparison.GREATER_THAN_OR_EQUAL, threshold: 0.9 },
  { metricName: 'validation:loss', comparison: MetricComparison.LESS_THAN, threshold: 0.5 },
];

export interface Fixture {
  readonly app: App;
  readonly stack: Stack;
  readonly lake: SecureDataLake;
  readonly job: GpuTrainingJob;
  readonly template: Template;
}

export type PartialProps = Partial<GpuTrainingJobProps>;

/** A stack with a lake and a training job (ECR image, no asset) with the given props. */
export function trainingStack(
  props: PartialProps | ((stack: Stack, lake: SecureDataLake) => PartialProps) = {},
  app = new App(),
  extend: (job: GpuTrainingJob, stack: Stack, lake: SecureDataLake) => void = () => undefined,
): Fixture {
  const stack = new Stack(app, 'Training', { env: ENV });
  const lake = new SecureDataLake(stack, 'Lake');
  const extra = typeof props === 'function' ? props(stack, lake) : props;
  const job = new GpuTrainingJob(stack, 'Job', {
    lake,
    modelName: 'hearing-who-grade',
    datasetPrefix: 'hearing/',
    trainingImage: TrainingImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Repo', 'hearing-training'), 'v1'),
    ...extra,
  });
  extend(job, stack, lake);
  return { app, stack, lake, job, template: Template.fromStack(stack) };
}

/** The logical id of the only resource of a type whose id starts with `prefix`. */
export function logicalId(template: Template, type: string, prefix = ''): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) {
    throw new Error(`expected one ${type} starting with '${prefix}', found ${ids.join(', ') || 'none'}`);
  }
  return ids[0];
}

/** Readable values for intrinsics: `{Ref: LakeCuratedXXXX}` → `lakecuratedxxxx`, GetAtt → `<id>.<attr>`. */
export function readableToken(intrinsic: unknown): string {
  const v = intrinsic as Record<string, any>;
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
  if (v.Ref === 'AWS::Region') return ENV.region;
  if (v.Ref === 'AWS::AccountId') return ENV.account;
  if (typeof v.Ref === 'string') return v.Ref.toLowerCase();
  if (Array.isArray(v['Fn::GetAtt'])) return `${v['Fn::GetAtt'][0]}.${v['Fn::GetAtt'][1]}`;
  if (typeof v['Fn::Sub'] === 'string') {
    return v['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_: string, name: string) => readableToken({ Ref: name }));
  }
  return '{{token}}';
}

/** The job's state machine definition with readable intrinsics. */
export function definition(f: Fixture): Record<string, any> {
  const id = logicalId(f.template, 'AWS::StepFunctions::StateMachine');
  return definitionOf(f.template.toJSON().Resources[id], readableToken);
}

/** The curated and models bucket names as `readableToken` writes them. */
export function bucketNames(f: Fixture): { curated: string; models: string } {
  return {
    curated: logicalId(f.template, 'AWS::S3::Bucket', 'LakeCurated').toLowerCase(),
    models: logicalId(f.template, 'AWS::S3::Bucket', 'LakeModels').toLowerCase(),
  };
}
