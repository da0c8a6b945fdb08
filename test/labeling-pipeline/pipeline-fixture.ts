import * as path from 'node:path';
import { hearingLabelingProps } from '../../examples/reference-app/labeling-props';
import { LabelingPipelineProps } from '../../src';

const HEARING = path.join(__dirname, '..', 'fixtures', 'hearing');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const LABELING = require(path.join(HEARING, 'labeling-config.json'));

/** The hearing-test configuration of the reference example, as construct props (the reference app's mapping). */
export function hearingPipelineProps(): Omit<LabelingPipelineProps, 'lake'> {
  return hearingLabelingProps(LABELING, path.join(HEARING, 'cleaning-config.json'));
}
