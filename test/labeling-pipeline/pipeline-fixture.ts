import * as path from 'node:path';
import { CleaningRules, Labeler, LabelingPipelineProps } from '../../src';

const HEARING = path.join(__dirname, '..', 'fixtures', 'hearing');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const LABELING = require(path.join(HEARING, 'labeling-config.json'));

/** The hearing-test configuration of the reference example, as construct props. */
export function hearingPipelineProps(): Omit<LabelingPipelineProps, 'lake'> {
  return {
    cleaningRules: CleaningRules.fromFile(path.join(HEARING, 'cleaning-config.json')),
    labelAttribute: LABELING.task.attribute,
    classes: LABELING.task.classes,
    labelers: [Labeler.rulesFromObject(LABELING.rules)],
    review: {
      minConfidence: LABELING.task.review.minConfidence,
      qualitySampleRate: LABELING.task.review.sampleRate,
      qualitySampleSalt: LABELING.task.review.sampleSalt,
    },
    datasetSplit: LABELING.split,
    qualityGates: LABELING.gates,
  };
}
