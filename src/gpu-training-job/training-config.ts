/**
 * The props of a GpuTrainingJob, checked and with their defaults applied, and the object-key
 * layout the job writes in the models zone. Checked once, before the first resource is defined.
 */
import { Duration, Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { TrainingInstanceType } from './instance-type';
import { MAX_ARCHIVE_LIMIT_BYTES, PUBLISHED_MODEL_KEYS } from './runtime/contract';
import {
  ChannelDataType, ChannelInputMode, MetricGate, ModelApprovalStatus, TrainingChannel, TrainingMetricDefinition,
} from './training-options';
import type { GpuTrainingJobProps } from './training-props';
import { DATASET_FILES } from '../contract/dataset-version';
import { CAPTURE_NAME_PATTERN, MONITORING_ROOT } from '../contract/monitoring';
import { conflictingProps, invalidProp } from '../private/errors';

/** A GpuTrainingJob's props, checked, with the defaults applied. */
export interface TrainingConfig {
  readonly modelName: string;
  /** '' or key segments ending in `/`. */
  readonly datasetPrefix: string;
  readonly instanceType: TrainingInstanceType;
  readonly instanceCount: number;
  /** Whole GiB. */
  readonly volumeGiB: number;
  /** Seconds. */
  readonly maxRuntime: number;
  readonly spot: boolean;
  readonly checkpoints: boolean;
  /** Seconds; spot training only. */
  readonly maxWait?: number;
  readonly networkIsolation: boolean;
  readonly hyperparameters: Record<string, string>;
  readonly environment: Record<string, string>;
  readonly metricDefinitions: TrainingMetricDefinition[];
  readonly gates: MetricGate[];
  readonly channels: TrainingChannel[];
  readonly modelApprovalStatus: ModelApprovalStatus;
  /** Training job names are `<jobNamePrefix>-<MD5 of the execution id>` (63 characters at most). */
  readonly jobNamePrefix: string;
  /** The ONNX file in the model directory. */
  readonly modelFileName: string;
  /** The drift baseline in the model directory. */
  readonly baselineFileName: string;
  readonly requireBaseline: boolean;
  /** The most decompressed bytes the PublishModel task reads from model.tar.gz. */
  readonly maxArchiveBytes: number;
}

/** Object keys of a model in the models zone (`m` = the model's name). */
export const MODEL_KEYS = {
  /** SageMaker's output: `<m>/training-jobs/<job name>/output/model.tar.gz`. */
  trainingJobs: (m: string) => `${m}/training-jobs/`,
  /** Checkpoints: `<m>/checkpoints/<job name>/`. */
  checkpoints: (m: string) => `${m}/checkpoints/`,
  /** Model records: `<m>/records/<job name>.json`. */
  records: PUBLISHED_MODEL_KEYS.records,
  /** Published ONNX files: `<m>/models/<job name>/model.onnx`. */
  models: PUBLISHED_MODEL_KEYS.models,
} as const;

/** Names the models zone reserves: `monitoring/` holds captures, baselines and drift reports. */
const RESERVED_MODEL_NAMES: Record<string, string> = {
  [MONITORING_ROOT.replace(/\/$/, '')]: 'it is the monitoring folder of the models zone (captures, ground truth, drift baselines and reports)',
};

/** SageMaker's limit on MaxRuntimeInSeconds: 28 days. */
const MAX_RUNTIME_SECONDS = 28 * 24 * 3600;
const MODEL_NAME = /^[a-z0-9](-*[a-z0-9]){0,39}$/;
const DATASET_PREFIX = /^([A-Za-z0-9._-]+\/)*$/;
const CHANNEL_NAME = /^[A-Za-z0-9.\-_]{1,64}$/;
const DATASET_FILE = /^(?!(.*\/)?\.\.?(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const SAFE_TEXT = /^[^'"\\{}]+$/;
const ENV_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,511}$/;
const FILE_NAME = /^(?!\.\.?$)[A-Za-z0-9._-]{1,255}$/;
const MIN_ARCHIVE_BYTES = 1024 * 1024;
/** Length of `States.Hash(..., 'MD5')` in hex. */
const HASH_LENGTH = 32;

/**
 * Check the props of the GpuTrainingJob `scope` (throwing the first problem found, with the
 * construct's path) and apply their defaults.
 */
export function resolveTrainingConfig(scope: IConstruct, props: GpuTrainingJobProps): TrainingConfig {
  const modelName = props.modelName;
  if (Token.isUnresolved(modelName) || !MODEL_NAME.test(modelName)) {
    invalidProp(scope, 'modelName', modelName, 'expected 1 to 40 lower-case letters, digits or "-" (no leading, trailing or double "-"), e.g. "hearing-who-grade"');
  }
  if (RESERVED_MODEL_NAMES[modelName]) {
    invalidProp(scope, 'modelName', modelName, `choose another name: "${modelName}" is reserved, ${RESERVED_MODEL_NAMES[modelName]}`);
  }
  if (props.datasetTrigger && props.datasetPrefix === undefined) {
    // Without it the role could read, and the trigger would match, only datasets/ at the top of the
    // curated zone: a pipeline with a zone prefix would never start a training, silently.
    invalidProp(scope, 'datasetPrefix', undefined, 'datasetTrigger needs it: set it to the zone prefix of the labeling pipeline whose dataset versions start the training (datasetPrefix: pipeline.zonePrefix, e.g. "hearing/"; "" for a pipeline without one)');
  }
  const datasetPrefix = props.datasetPrefix ?? '';
  if (Token.isUnresolved(datasetPrefix) || !DATASET_PREFIX.test(datasetPrefix)) {
    invalidProp(scope, 'datasetPrefix', datasetPrefix, 'expected "" or key segments each ending in "/" (letters, digits, ".", "_", "-"), e.g. "hearing/"');
  }
  const instanceType = props.instanceType ?? TrainingInstanceType.ML_G5_XLARGE;
  const instanceCount = props.instanceCount ?? 1;
  if (Token.isUnresolved(instanceCount) || !Number.isInteger(instanceCount) || instanceCount < 1 || instanceCount > 100) {
    invalidProp(scope, 'instanceCount', instanceCount, 'expected an integer from 1 to 100');
  }
  const volumeGiB = (props.volumeSize ?? Size.gibibytes(50)).toGibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (Token.isUnresolved(volumeGiB) || !Number.isInteger(volumeGiB) || volumeGiB < 1 || volumeGiB > 16384) {
    invalidProp(scope, 'volumeSize', props.volumeSize, 'expected whole GiB from 1 to 16384');
  }
  const maxRuntime = seconds(scope, 'maxRuntime', props.maxRuntime ?? Duration.hours(24), 1, MAX_RUNTIME_SECONDS, 'expected 1 second to 28 days (SageMaker\'s limit)');
  const spot = props.useSpotInstances ?? false;
  const checkpoints = props.checkpoints ?? spot;
  let maxWait: number | undefined;
  if (spot) {
    if (!checkpoints) {
      conflictingProps(scope, 'useSpotInstances needs checkpoints: an interrupted spot job without checkpoints starts again from scratch. Remove checkpoints: false (the default with spot is true).');
    }
    maxWait = props.maxWait
      ? seconds(scope, 'maxWait', props.maxWait, maxRuntime, Number.MAX_SAFE_INTEGER, `expected at least maxRuntime (${maxRuntime} seconds)`)
      : Math.max(maxRuntime, Math.min(2 * maxRuntime, MAX_RUNTIME_SECONDS));
  } else if (props.maxWait) {
    conflictingProps(scope, 'maxWait applies to spot training only: set useSpotInstances: true or remove maxWait.');
  }
  if (props.vpcSubnets && !props.vpc) {
    conflictingProps(scope, 'vpcSubnets needs vpc: give the VPC the subnets belong to, or remove vpcSubnets.');
  }
  if (props.volumeEncryptionKey && instanceType.hasLocalNvmeStorage) {
    conflictingProps(scope, `volumeEncryptionKey cannot be used with ${instanceType.name}: its storage is local NVMe, encrypted by the instance's hardware, and SageMaker rejects a VolumeKmsKeyId for it. Remove volumeEncryptionKey or choose an instance type without local storage (e.g. ml.p3.2xlarge).`);
  }
  const hyperparameters = props.hyperparameters ?? {};
  checkMap(scope, 'hyperparameters', hyperparameters, 100, /^.{1,256}$/s, 2500);
  const environment = props.environment ?? {};
  checkMap(scope, 'environment', environment, 100, ENV_NAME, 512);
  const metricDefinitions = props.metricDefinitions ?? [];
  if (metricDefinitions.length > 40) {
    invalidProp(scope, 'metricDefinitions', `${metricDefinitions.length} definitions`, 'expected at most 40 (SageMaker\'s limit)');
  }
  for (const d of metricDefinitions) {
    if (!SAFE_TEXT.test(d.name) || d.name.length > 255) {
      invalidProp(scope, 'metricDefinitions[].name', d.name, 'expected 1 to 255 characters without quotes, backslashes or braces');
    }
    if (d.regex.length < 1 || d.regex.length > 500) {
      invalidProp(scope, `metricDefinitions[${d.name}].regex`, d.regex, 'expected 1 to 500 characters');
    }
  }
  const gates = props.gates ?? [];
  for (const g of gates) {
    if (!metricDefinitions.some((d) => d.name === g.metricName)) {
      invalidProp(scope, 'gates[].metricName', g.metricName, `expected one of the metricDefinitions names (${metricDefinitions.map((d) => d.name).join(', ') || 'none defined'}): a gate on a metric the job does not scrape rejects every model`);
    }
    if (Token.isUnresolved(g.threshold) || !Number.isFinite(g.threshold)) {
      invalidProp(scope, `gates[${g.metricName}].threshold`, g.threshold, 'expected a finite number');
    }
  }
  const channels = props.channels ?? [
    { name: 'train', datasetFile: DATASET_FILES.manifest('train') },
    { name: 'validation', datasetFile: DATASET_FILES.manifest('validation') },
  ];
  checkChannels(scope, channels);
  if (props.schedule && (Token.isUnresolved(props.schedule.datasetVersion) || !/^[A-Za-z0-9._-]{1,128}$/.test(props.schedule.datasetVersion))) {
    invalidProp(scope, 'schedule.datasetVersion', props.schedule.datasetVersion, 'expected 1 to 128 letters, digits, ".", "_" or "-"');
  }
  const publish = resolvePublishOptions(scope, props);
  checkRetrainOnDrift(scope, props, datasetPrefix);
  return {
    ...publish,
    modelName,
    datasetPrefix,
    instanceType,
    instanceCount,
    volumeGiB,
    maxRuntime,
    spot,
    checkpoints,
    maxWait,
    networkIsolation: props.networkIsolation ?? true,
    hyperparameters,
    environment,
    metricDefinitions,
    gates,
    channels,
    modelApprovalStatus: props.modelApprovalStatus ?? ModelApprovalStatus.PENDING_MANUAL_APPROVAL,
    jobNamePrefix: modelName.slice(0, 63 - HASH_LENGTH - 1).replace(/-+$/, ''),
  };
}

function resolvePublishOptions(scope: IConstruct, props: GpuTrainingJobProps) {
  const modelFileName = props.modelFileName ?? 'model.onnx';
  const baselineFileName = props.baselineFileName ?? 'baseline.json';
  for (const [prop, name] of [['modelFileName', modelFileName], ['baselineFileName', baselineFileName]]) {
    if (Token.isUnresolved(name) || !FILE_NAME.test(name)) {
      invalidProp(scope, prop, name, 'expected a file name at the top of the model directory: 1 to 255 letters, digits, ".", "_" or "-" (no "/")');
    }
  }
  if (modelFileName === baselineFileName) {
    conflictingProps(scope, `modelFileName and baselineFileName are both "${modelFileName}": the model file and the drift baseline are two files.`);
  }
  const maxArchiveBytes = props.maxArchiveSize ? props.maxArchiveSize.toBytes() : 2 * 1024 ** 3;
  const archiveInRange = maxArchiveBytes >= MIN_ARCHIVE_BYTES && maxArchiveBytes <= MAX_ARCHIVE_LIMIT_BYTES;
  if (Token.isUnresolved(maxArchiveBytes) || !Number.isSafeInteger(maxArchiveBytes) || !archiveInRange) {
    invalidProp(scope, 'maxArchiveSize', props.maxArchiveSize, 'expected 1 MiB to 5 GiB (the model file is published with one PutObject, whose limit is 5 GiB)');
  }
  return { modelFileName, baselineFileName, requireBaseline: props.requireBaseline ?? false, maxArchiveBytes };
}

function checkRetrainOnDrift(scope: IConstruct, props: GpuTrainingJobProps, datasetPrefix: string) {
  const retrain = props.retrainOnDrift;
  if (!retrain) return;
  if (!props.datasetTrigger) {
    conflictingProps(scope, 'retrainOnDrift needs datasetTrigger: drift starts a new dataset version of the pipeline, and the dataset trigger trains on it. Add datasetTrigger: {} (and datasetPrefix: pipeline.zonePrefix).');
  }
  const zonePrefix = retrain.pipeline.zonePrefix;
  if (!Token.isUnresolved(zonePrefix) && zonePrefix !== datasetPrefix) {
    invalidProp(scope, 'retrainOnDrift.pipeline.zonePrefix', zonePrefix,
      `expected the job's datasetPrefix ("${datasetPrefix}"): the versions of another pipeline's zone would never start a training of this job`);
  }
  const pipelineName = props.datasetTrigger?.pipelineName;
  if (pipelineName !== undefined && !Token.isUnresolved(retrain.pipeline.pipelineName) && pipelineName !== retrain.pipeline.pipelineName) {
    invalidProp(scope, 'retrainOnDrift.pipeline.pipelineName', retrain.pipeline.pipelineName,
      `expected the pipeline datasetTrigger listens to ("${pipelineName}"): the other pipeline's new versions would never start a training`);
  }
  if (retrain.captureName !== undefined && (Token.isUnresolved(retrain.captureName) || !CAPTURE_NAME_PATTERN.test(retrain.captureName))) {
    invalidProp(scope, 'retrainOnDrift.captureName', retrain.captureName, 'expected an endpoint\'s capture name: 1 to 64 letters, digits, ".", "_" or "-"');
  }
}

function seconds(scope: IConstruct, prop: string, duration: Duration, min: number, max: number, expected: string): number {
  const s = duration.toSeconds({ integral: false });
  if (Token.isUnresolved(s)) {
    invalidProp(scope, prop, 'a token', 'give a literal Duration');
  }
  if (!Number.isInteger(s) || s < min || s > max) {
    invalidProp(scope, prop, duration, expected);
  }
  return s;
}

function checkMap(scope: IConstruct, prop: string, map: Record<string, string>, maxEntries: number, key: RegExp, maxValue: number) {
  const entries = Object.entries(map);
  if (entries.length > maxEntries) {
    invalidProp(scope, prop, `${entries.length} entries`, `expected at most ${maxEntries} (SageMaker's limit)`);
  }
  for (const [k, v] of entries) {
    if (!key.test(k)) {
      invalidProp(scope, `${prop} key`, k, `expected a name matching ${key}`);
    }
    if (typeof v !== 'string' || v.length > maxValue) {
      invalidProp(scope, `${prop}.${k}`, v, `expected a string of at most ${maxValue} characters (SageMaker passes every value as a string)`);
    }
  }
}

function checkChannels(scope: IConstruct, channels: TrainingChannel[]) {
  if (channels.length < 1 || channels.length > 20) {
    invalidProp(scope, 'channels', `${channels.length} channels`, 'expected 1 to 20 channels');
  }
  const names = new Set<string>();
  for (const c of channels) {
    if (!CHANNEL_NAME.test(c.name) || names.has(c.name)) {
      invalidProp(scope, 'channels[].name', c.name, 'expected a unique name of 1 to 64 letters, digits, ".", "-" or "_"');
    }
    names.add(c.name);
    if (!DATASET_FILE.test(c.datasetFile)) {
      invalidProp(scope, `channels[${c.name}].datasetFile`, c.datasetFile, 'expected a file of the dataset version such as "train.manifest" (no leading "/", no "*")');
    }
    const augmented = c.dataType === ChannelDataType.AUGMENTED_MANIFEST_FILE;
    if (augmented && c.inputMode !== undefined && c.inputMode !== ChannelInputMode.PIPE) {
      invalidProp(scope, `channels[${c.name}].inputMode`, c.inputMode, 'AugmentedManifestFile channels are read in Pipe mode only: use ChannelInputMode.PIPE or leave inputMode out');
    }
    if (augmented && (!c.attributeNames || c.attributeNames.length < 1 || c.attributeNames.length > 16)) {
      invalidProp(scope, `channels[${c.name}].attributeNames`, c.attributeNames, 'AugmentedManifestFile channels need 1 to 16 attribute names, e.g. ["source", "who-grade"]');
    }
    if (!augmented && c.attributeNames) {
      invalidProp(scope, `channels[${c.name}].attributeNames`, c.attributeNames, 'attributeNames apply to ChannelDataType.AUGMENTED_MANIFEST_FILE only');
    }
  }
}
