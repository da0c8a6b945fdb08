/**
 * The props of a LabelingPipeline, checked and with their defaults applied, and the configuration
 * file its handlers read (`PipelineConfig`). Checked once, before the first resource is defined.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import type { LabelingPipelineProps } from './labeling-pipeline';
import { ManifestSource } from './pipeline-options';
import { PipelineConfig } from './runtime/contract';
import { invalidProp } from '../private/errors';
import { compileSplitter } from './runtime/logic/dataset';
import { compileLabelTask, LabelTaskConfig } from './runtime/logic/labeling';
import { GROUP_NAME_PATTERN, REQUEST_LIMITS } from './runtime/logic/review-request';

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
  /** Who may review, and how often (with the review API). */
  readonly reviewers: ReviewerSettings;
}

/** Who may review, checked, with the defaults applied. */
export interface ReviewerSettings {
  /** Members of a Cognito group, or IAM roles (following the review API's authorization). */
  readonly kind: 'cognito-group' | 'iam-roles';
  /** The Cognito group (`cognito-group`). */
  readonly groupName: string;
  /** Create the group (`cognito-group`); undefined: when the pipeline creates the user pool. */
  readonly createGroup?: boolean;
  /** The reviewer roles (`iam-roles`). */
  readonly roles: iam.IRole[];
  readonly maxRequestsPerWindow: number;
  readonly windowSeconds: number;
  /** Quality-sample records need two different reviewers who agree. */
  readonly fourEyesQualitySample: boolean;
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
  const reviewers = reviewerSettings(scope, props);
  return { pipelineName, sourcePrefix, zonePrefix, batchSize, maxReceiveCount, handlerTimeout, config, reviewTimeout, maxAttempts, reviewers };
}

/** Who may review: the group or the roles that fit the review API's authorization, and the request limit. */
function reviewerSettings(scope: IConstruct, props: LabelingPipelineProps): ReviewerSettings {
  const r = props.reviewers ?? {};
  if (props.reviewers && props.reviewApiEnabled === false) {
    invalidProp(scope, 'reviewers', 'options', 'reviewers is ignored when reviewApiEnabled is false; leave it out');
  }
  const kind = props.reviewApi?.authorization?.kind === 'IAM' ? 'iam-roles' : 'cognito-group';
  if (kind === 'cognito-group' && r.roles !== undefined) {
    invalidProp(scope, 'reviewers.roles', `${r.roles.length} role(s)`, 'roles apply to IAM authorization; with Cognito, reviewers are the members of reviewers.groupName');
  }
  if (kind === 'iam-roles') {
    if (!r.roles || r.roles.length === 0) {
      invalidProp(scope, 'reviewers.roles', r.roles ? '[]' : undefined, 'with IAM authorization, name the roles that may review (every other caller gets 403)');
    }
    if (r.groupName !== undefined || r.createGroup !== undefined) {
      invalidProp(scope, 'reviewers.groupName/createGroup', r.groupName ?? r.createGroup, 'a Cognito group applies to Cognito authorization; with IAM, name reviewers.roles');
    }
  }
  const groupName = r.groupName ?? 'reviewers';
  if (!Token.isUnresolved(groupName) && !GROUP_NAME_PATTERN.test(groupName)) {
    invalidProp(scope, 'reviewers.groupName', groupName, 'expected 1 to 128 letters, digits or "_ . @ + = -"');
  }
  const maxRequestsPerWindow = r.maxRequestsPerWindow ?? 1200;
  if (!Token.isUnresolved(maxRequestsPerWindow)
    && !(Number.isInteger(maxRequestsPerWindow) && maxRequestsPerWindow >= 1 && maxRequestsPerWindow <= REQUEST_LIMITS.maxRequests)) {
    invalidProp(scope, 'reviewers.maxRequestsPerWindow', maxRequestsPerWindow, `expected an integer from 1 to ${REQUEST_LIMITS.maxRequests}`);
  }
  const window = r.requestWindow ?? Duration.hours(1);
  const windowSeconds = window.toSeconds({ integral: false });
  if (Token.isUnresolved(windowSeconds) || !Number.isInteger(windowSeconds)
    || windowSeconds < REQUEST_LIMITS.minWindowSeconds || windowSeconds > REQUEST_LIMITS.maxWindowSeconds) {
    invalidProp(scope, 'reviewers.requestWindow', window.toHumanString(), 'expected whole seconds from 1 minute to 1 day');
  }
  const fourEyesQualitySample = props.review?.fourEyesQualityControl ?? false;
  if (fourEyesQualitySample && !(props.review?.qualitySampleRate ?? 0)) {
    Annotations.of(scope).addWarningV2('cdk-secure-mlops:fourEyesWithoutSample',
      'review.fourEyesQualityControl has no effect without a quality sample (review.qualitySampleRate is 0)');
  }
  return { kind, groupName, createGroup: r.createGroup, roles: r.roles ?? [], maxRequestsPerWindow, windowSeconds, fourEyesQualitySample };
}

/** The configuration file of the handlers, checked with the handlers' own compilers. */
function pipelineConfig(scope: IConstruct, pipelineName: string, props: LabelingPipelineProps): PipelineConfig {
  const cleaning = props.cleaningRules._toConfig();
  // The subject identifier is written to the ledger and splits the datasets: it must be a
  // pseudonym, never the identifier in clear.
  if (cleaning.subjectField !== undefined && !isPseudonymized(cleaning.subjectField, cleaning.pseudonymize ?? [])) {
    invalidProp(scope, 'cleaningRules.subjectField', cleaning.subjectField,
      'the subject identifier must be pseudonymized: add its path to the cleaning rules\' pseudonymize list (the subject is recorded in the ledger and splits the datasets)');
  }
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
    cleaning,
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

/**
 * True when a pseudonymize pattern covers `field` exactly: the same number of dotted segments, each
 * equal or `*` (the cleaner replaces the value at every path a pattern matches).
 */
export function isPseudonymized(field: string, patterns: readonly string[]): boolean {
  const segments = field.split('.');
  return patterns.some((p) => {
    const ps = p.split('.');
    return ps.length === segments.length && ps.every((s, i) => s === '*' || s === segments[i]);
  });
}

/** The object without its undefined members. */
function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
