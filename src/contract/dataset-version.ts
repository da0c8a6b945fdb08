/**
 * The layout of a dataset version in the lake's curated zone: written by the LabelingPipeline's
 * dataset handler, read by GpuTrainingJob (its channels, its read and list scope, its trigger and
 * the check of its input).
 *
 * Pure TypeScript (no aws-cdk-lib, no SDK): imported by constructs (synth time) and by handlers
 * (bundled). Changing a name here is a breaking change for deployed pipelines and training jobs.
 */

/** The folder of every dataset version (`p` = the zone prefix: '' or key segments ending in `/`). */
const datasetRoot = (p: string) => `${p}datasets/`;

/** Object keys of dataset versions in the curated zone (`p` = the zone prefix). */
export const DATASET_KEYS = {
  /** Curated zone: the folder of every dataset version, `<p>datasets/`. */
  datasetRoot,
  /** Curated zone: a dataset version's files, `<p>datasets/<version>/`. */
  datasetPrefix: (p: string, version: string) => `${datasetRoot(p)}${version}/`,
} as const;

/** Files of a dataset version under `DATASET_KEYS.datasetPrefix`. */
export const DATASET_FILES = {
  manifest: (split: 'train' | 'validation' | 'test') => `${split}.manifest`,
  /**
   * The dataset card, written last: `datasetVersion` and `published` (true when the version passed
   * its quality gates). Consumers check it before they act on an event naming the version.
   */
  card: 'dataset-card.json',
  report: 'quality-report.json',
} as const;
