/**
 * The props of a LabelingPipeline, checked and with their defaults applied, and the configuration
 * file its handlers read (`PipelineConfig`). Checked once, before the first resource is defined.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import type { LabelingPipelineProps } from './labeling-pipeline';
import { ManifestSource } from './pipeline-options';
import { PipelineConfig } from './runtime/contract';
import { invalidProp } from '../private/errors';
import { compileSplitter } from './runtime/logic/dataset';
import { compileLabelTask, LabelTaskConfig } from './runtime/logic/labeling';

/** This library's version, recorded in dataset cards (lib/labeling-pipeline → package.json). */
const LIBRARY_VERSION: string = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;

/** A key prefix: '' or path segments, each followed by `/`. */
const PREFIX_PATTERN = /^([A-Za-z0-9._-]+\/)*$/;

/** A LabelingPipeline's props, checked, with the defaults applied. */
export interface PipelineSettings {
  readonly pipelineName: string;
  /** Key prefix of the uploads in the raw zone. */
  readonly sourcePrefix: string;
  /** Key prefix of the pipeline's objects in the clean, quarantine and curated zones. */
  readonly zonePrefix: string;
  readonly batchSize: number;
  readonly maxReceiveCount: number;
  readonly handlerTimeout: Duration;
  /** What the handlers read (staged beside each bundle). */
  readonly config: PipelineConfig;
  /** How long one review may wait before it goes back to the queue. */
  readonly reviewTimeout: Duration;
  /** How many times a review is queued before it expires. */
  readonly maxAttempts: number;
}

/**
 * Check the props of the pipeline `scope` (constructed with `id`) and apply their defaults. A
 * problem throws an error that names the prop, the value received and what is allowed.
 */
export function checkPipelineProps(scope: IConstruct, id: string, props: LabelingPipelineProps): PipelineSettings {
  const pipelineName = props.pipelineName ?? id.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(pipelineName)) {
    invalidProp(scope, 'pipelineName', pipelineName, 'expected 1 to 63 lowercase letters, digits or "-", starting with a letter or digit');
  }
  const sourcePrefix = props.sourcePrefix ?? 'uploads/';
  if (!PREFIX_PATTERN.test(sourcePrefix)) {
    invalidProp(scope, 'sourcePrefix', sourcePrefix, 'expected "" or path segments of letters, digits, ".", "_" or "-", each followed by "/"');
  }
  const zonePrefix = props.zonePrefix ?? `${pipelineName}/`;
  if (!PREFIX_PATTERN.test(zonePrefix)) {
    invalidProp(scope, 'zonePrefix', zonePrefix, 'expected "" or path segments of letters, digits, ".", "_" or "-", each followed by "/"');
  }
  if (!props.lake.pseudonymizationKey) {
    invalidProp(scope, 'lake', 'a lake without a pseudonymization key', 'the cleaning step pseudonymizes identifiers with the lake\'s HMAC key: import the lake with pseudonymizationKeyArn');
  }
  const batchSize = props.batchSize ?? 10;
  if (!Token.isUnresolved(batchSize) && !(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 100)) {
    invalidProp(scope, 'batchSize', batchSize, 'expected an integer from 1 to 100');
  }
  const maxReceiveCount = props.maxReceiveCount ?? 3;
  if (!Token.isUnresolved(maxReceiveCount) && !(Number.isInteger(maxReceiveCount) && maxReceiveCount >= 1 && maxReceiveCount <= 20)) {
    invalidProp(scope, 'maxReceiveCount', maxReceiveCount, 'expected an integer from 1 to 20');
  }
  const handlerTimeout = props.handlerTimeout ?? Duration.seconds(60);
  if (!Token.isUnresolved(handlerTimeout.toSeconds()) && (handlerTimeout.toSeconds() < 5 || handlerTimeout.toSeconds() > 900)) {
    invalidProp(scope, 'handlerTimeout', handlerTimeout.toHumanString(), 'expected 5 seconds to 15 minutes');
  }
  if (props.vpcSubnets && !props.vpc) invalidProp(scope, 'vpcSubnets', 'a selection', 'vpcSubnets needs vpc');

  const config = pipelineConfig(scope, pipelineName, props);
  const review = props.review ?? {};
  const reviewTimeout = review.timeout ?? Duration.days(7);
  const maxAttempts = review.maxAttempts ?? 3;
  if (!(Number.isInteger(maxAttempts) && maxAttempts >= 1 && maxAttempts <= 100)) {
    invalidProp(scope, 'review.maxAttempts', maxAttempts, 'expected an integer from 1 to 100');
  }
  const reviewSeconds = reviewTimeout.toSeconds();
  if (!Token.isUnresolved(reviewSeconds) && (reviewSeconds < 60 || reviewSeconds * maxAttempts > 365 * 24 * 3600)) {
    invalidProp(scope, 'review.timeout', reviewTimeout.toHumanString(), 'expected at least 1 minute, and timeout × maxAttempts within a year (a standard execution\'s limit)');
  }
  return { pipelineName, sourcePrefix, zonePrefix, batchSize, maxReceiveCount, handlerTimeout, config, reviewTimeout, maxAttempts };
}

/** The configuration file of the handlers, checked with the handlers' own compilers. */
function pipelineConfig(scope: IConstruct, pipelineName: string, props: LabelingPipelineProps): PipelineConfig {
  if (props.labelers.length === 0) invalidProp(scope, 'labelers', '[]', 'expected at least one labeler');
  const refs = props.labelers.map((l) => l.ref);
  const dup = refs.find((r, i) => refs.indexOf(r) !== i);
  if (dup) invalidProp(scope, 'labelers', dup, 'expected labelers with distinct names and versions');
  for (const l of props.labelers) {
    const extra = (l._classes() ?? []).filter((c) => !props.classes.includes(c));
    if (extra.length) invalidProp(scope, 'labelers', l.ref, `its classes ${JSON.stringify(extra)} are not in classes ${JSON.stringify(props.classes)}`);
  }
  const review = props.review ?? {};
  const task: LabelTaskConfig = {
    attribute: props.labelAttribute,
    classes: props.classes,
    ...(props.labelerWeights ? { weights: props.labelerWeights } : {}),
    review: {
      minConfidence: review.minConfidence ?? 0.8,
      sampleRate: review.qualitySampleRate ?? 0,
      sampleSalt: review.qualitySampleSalt ?? '',
      onDisagreement: review.onDisagreement ?? true,
    },
  };
  try {
    compileLabelTask(task);
  } catch (e) {
    invalidProp(scope, 'labelAttribute/classes/review', props.labelAttribute, (e as Error).message);
  }
  const s = props.datasetSplit ?? { train: 0.8, validation: 0.1, test: 0.1 };
  const split = { train: s.train, validation: s.validation, test: s.test, salt: s.salt ?? '' };
  try {
    compileSplitter(split);
  } catch (e) {
    invalidProp(scope, 'datasetSplit', JSON.stringify(split), (e as Error).message);
  }
  return {
    pipelineName,
    cleaning: props.cleaningRules._toConfig(),
    labelers: props.labelers.map((l) => l._spec()),
    task,
    split,
    // Field by field, in a fixed order: the staged file (and so the asset hash) must not depend on
    // the key order a caller (or jsii, for Python) delivers.
    ...(props.qualityGates ? {
      gates: definedOnly({
        minRecords: props.qualityGates.minRecords,
        maxQuarantineRate: props.qualityGates.maxQuarantineRate,
        minPerSplit: props.qualityGates.minPerSplit,
        maxUnlabelledRate: props.qualityGates.maxUnlabelledRate,
      }),
    } : {}),
    manifestSource: props.manifestSource ?? ManifestSource.INLINE,
    libraryVersion: LIBRARY_VERSION,
  };
}

/** The object without its undefined members. */
function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
