/**
 * The contract between the GpuTrainingJob construct and its publish-model handler: the
 * environment the construct sets, the task's input and output, the keys it writes and the error
 * names the state machine reports.
 *
 * Pure TypeScript (no aws-cdk-lib, no SDK): imported by the construct (synth time) and by the
 * handler (bundled). Changing a name here is a breaking change for deployed training jobs.
 */

/** Environment variables of the publish-model function. */
export const PUBLISH_MODEL_ENV = {
  /** The models zone's bucket. */
  modelsBucket: 'MODELS_BUCKET',
  /** The lake key (SSE-KMS of every object written). */
  lakeKeyArn: 'LAKE_KEY_ARN',
  /** The model's name (key prefix `<model>/`). */
  modelName: 'MODEL_NAME',
  /** The ONNX file's name in the model directory. */
  modelFileName: 'MODEL_FILE_NAME',
  /** The drift baseline's name in the model directory. */
  baselineFileName: 'BASELINE_FILE_NAME',
  /** `true` when a run without a valid baseline fails. */
  requireBaseline: 'REQUIRE_BASELINE',
  /** The most bytes read from the archive (all entries, decompressed). */
  maxArchiveBytes: 'MAX_ARCHIVE_BYTES',
  /** The curated zone's bucket: the training run's lineage event goes under its `lineage/` (same lake key). */
  curatedBucket: 'CURATED_BUCKET',
} as const;

/** The most bytes a baseline document may have (a baseline keeps at most 1000 values per feature). */
export const MAX_BASELINE_BYTES = 64 * 1024 * 1024;

/** The most `maxArchiveSize` may be: S3's limit on one PutObject (5 GiB). */
export const MAX_ARCHIVE_LIMIT_BYTES = 5 * 1024 ** 3;

/** Input of the PublishModel task. */
export interface PublishModelInput {
  /** `s3://<models bucket>/<model>/training-jobs/<job>/output/model.tar.gz` (SageMaker's ModelArtifacts). */
  readonly modelArtifact: string;
  /** The training job's name. */
  readonly trainingJobName: string;
  /**
   * The dataset version trained on (the state's `datasetVersion`). With `datasetLocation`, the
   * task writes the training run's lineage event; without both, it writes none (and logs it).
   */
  readonly datasetVersion?: string;
  /** `s3://<curated bucket>/<prefix>datasets/<version>/`, the version's folder (the state's `location`). */
  readonly datasetLocation?: string;
  /**
   * ISO-8601 time of the lineage event: the state machine passes the time it entered the task
   * (`$$.State.EnteredTime`, the same for every retry, so a retry writes the same event).
   * @default the time the handler runs
   */
  readonly eventTime?: string;
}

/** The published model file: its key in the models zone, SHA-256 (lower-case hex) and size. */
export interface PublishedModelFile {
  readonly key: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** The published baseline: its key in the models zone and the SHA-256 of the stored document. */
export interface PublishedBaseline {
  readonly key: string;
  readonly sha256: string;
}

/** Output of the PublishModel task. */
export interface PublishModelResult {
  readonly modelSha256: string;
  readonly modelKey: string;
  readonly modelBytes: number;
  /** null when the archive holds no baseline (and none is required). */
  readonly baselineKey: string | null;
  readonly baselineSha256: string | null;
  /** The same, as the model record states them. */
  readonly model: PublishedModelFile;
  readonly baseline: PublishedBaseline | null;
  /** Key of the training run's lineage event in the curated zone; null when the input named no dataset version. */
  readonly lineageEventKey: string | null;
}

/** Keys the handler writes in the models zone (`m` = the model's name, `j` = the training job). */
export const PUBLISHED_MODEL_KEYS = {
  /** Published ONNX files: `<m>/models/`. */
  models: (m: string) => `${m}/models/`,
  /** The ONNX file of one training job: `<m>/models/<j>/model.onnx`. */
  modelFile: (m: string, j: string) => `${m}/models/${j}/model.onnx`,
  /** Model records (written by the state machine): `<m>/records/`. */
  records: (m: string) => `${m}/records/`,
  /** The model record of one training job: `<m>/records/<j>.json`. */
  record: (m: string, j: string) => `${m}/records/${j}.json`,
  /** SageMaker's archive of one training job: `<m>/training-jobs/<j>/output/model.tar.gz`. */
  archive: (m: string, j: string) => `${m}/training-jobs/${j}/output/model.tar.gz`,
} as const;

/**
 * Error names of the PublishModel task: the state machine puts "Training Failed" with the name.
 * None is retried: the same archive fails the same way.
 */
export const PUBLISH_MODEL_ERRORS = {
  /** The input is not this model's archive of the named job. */
  invalidInput: 'InvalidPublishInput',
  /** The archive is not in the models zone. */
  archiveMissing: 'ModelArchiveMissing',
  /** Not a gzip-compressed tar archive, or an entry that cannot be used (a link, a duplicate). */
  invalidArchive: 'InvalidModelArchive',
  /** More decompressed bytes than `maxArchiveSize`. */
  archiveTooLarge: 'ModelArchiveTooLarge',
  /** No model file (`modelFileName`) in the archive. */
  modelFileMissing: 'ModelFileMissing',
  /** No baseline in the archive, with `requireBaseline`. */
  baselineMissing: 'BaselineMissing',
  /** The baseline is not a valid drift baseline document (schema version 1). */
  invalidBaseline: 'InvalidBaseline',
  /** The baseline names another model (its `modelSha256` is not the model file's). */
  baselineModelMismatch: 'BaselineModelMismatch',
  /** Another object is already stored at the model's key. */
  modelConflict: 'PublishedModelConflict',
} as const;
