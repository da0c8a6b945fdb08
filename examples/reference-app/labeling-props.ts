import { CleaningRules, Labeler, LabelingPipelineProps } from '../../src';

/** The parts of the example's labeling configuration (`config/labeling.json`) that become construct props. */
export interface HearingLabelingConfig {
  readonly rules: any;
  readonly task: {
    readonly attribute: string;
    readonly classes: string[];
    readonly review: { readonly minConfidence: number; readonly sampleRate: number; readonly sampleSalt: string };
  };
  readonly split: any;
  readonly gates: any;
}

/**
 * The hearing-test example's configuration as LabelingPipeline props: the cleaning rules from a
 * file, the rule labeler, the review thresholds, the split and the quality gates of a labeling
 * configuration. The reference app adds its own deployment choices (name, schedule, API, alarms);
 * the tests use the same mapping with their fixture copies of the configuration.
 */
export function hearingLabelingProps(labeling: HearingLabelingConfig, cleaningRulesFile: string): Omit<LabelingPipelineProps, 'lake'> {
  return {
    cleaningRules: CleaningRules.fromFile(cleaningRulesFile),
    labelAttribute: labeling.task.attribute,
    classes: labeling.task.classes,
    labelers: [Labeler.rulesFromObject(labeling.rules)],
    review: {
      minConfidence: labeling.task.review.minConfidence,
      qualitySampleRate: labeling.task.review.sampleRate,
      qualitySampleSalt: labeling.task.review.sampleSalt,
    },
    datasetSplit: labeling.split,
    qualityGates: labeling.gates,
  };
}
