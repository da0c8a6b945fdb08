/** The hearing-test reference configuration (test/fixtures/hearing) and helpers shared by the tests and the benchmark. */
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PipelineConfig } from '../../src/labeling-pipeline/runtime/contract';
import { CleaningConfig, compileCleaner, MacFunction } from '../../src/labeling-pipeline/runtime/logic/cleaning';
import { SplitConfig, QualityGates } from '../../src/labeling-pipeline/runtime/logic/dataset';
import { JsonObject } from '../../src/labeling-pipeline/runtime/logic/json';
import { compileLabelTask, compileRulesLabeler, LabelTaskConfig, RulesLabelerConfig } from '../../src/labeling-pipeline/runtime/logic/labeling';

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'hearing');
export const CLEANING: CleaningConfig = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'cleaning-config.json'), 'utf8'));
export const LABELING: { rules: RulesLabelerConfig; task: LabelTaskConfig; split: SplitConfig; gates: QualityGates } =
  JSON.parse(fs.readFileSync(path.join(FIXTURES, 'labeling-config.json'), 'utf8'));

/** The injected clock: the day after the formats.md example was taken. */
export const NOW = Date.parse('2026-03-02T00:00:00Z');

/** The name of the hearing example's pipeline. */
export const PIPELINE = 'hearing';

/** The pipeline configuration the construct would stage (the hearing fixtures). */
export function hearingConfig(overrides: Partial<PipelineConfig> = {}): PipelineConfig {
  return {
    pipelineName: PIPELINE,
    cleaning: CLEANING,
    labelers: [{ kind: 'rules', rules: LABELING.rules }],
    task: LABELING.task,
    split: LABELING.split,
    gates: LABELING.gates,
    ...overrides,
  };
}

/** Stand-in for KMS GenerateMac: HMAC-SHA-256 with a fixed test key. */
export const fakeMac: MacFunction = (value) => createHmac('sha256', 'test-key').update(value).digest('hex');

export const record = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, 'records', name));
export const recordJson = (name: string): JsonObject => JSON.parse(record(name).toString('utf8'));
export const recordNames = (): string[] => fs.readdirSync(path.join(FIXTURES, 'records')).sort();

export const cleaner = () => compileCleaner(CLEANING, fakeMac);
export const whoGrade = () => compileRulesLabeler(LABELING.rules);
export const task = () => compileLabelTask(LABELING.task);

/** A reference record with the given better-ear four-frequency thresholds (all four equal per ear). */
export function hearingRecord(left: number[], right: number[], extra: Partial<JsonObject> = {}): JsonObject {
  const ear = (t: number[]) => ({ 500: t[0], 1000: t[1], 2000: t[2], 4000: t[3] });
  return { ...recordJson('valid-formats-example.json'), thresholds: { left: ear(left), right: ear(right) }, ...extra } as JsonObject;
}
