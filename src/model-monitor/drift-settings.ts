/**
 * The ModelMonitor's drift props (monitor-options.ts), checked at synth and translated into the
 * drift job's `DriftConfig`.
 */
import { IConstruct } from 'constructs';
import { DriftMethod, DriftThresholds } from './monitor-options';
import { invalidProp } from '../private/errors';
import type { DriftConfig, FeatureDriftConfig } from './runtime/logic/drift';

const P_VALUE_METHODS: readonly string[] = [DriftMethod.KS, DriftMethod.CHI_SQUARED];

/**
 * Check the thresholds (and, when the features are known, the names they mention) and return the
 * drift job's config.
 *
 * @internal
 */
export function driftConfigOf(scope: IConstruct, t: DriftThresholds = {}, features?: readonly string[]): DriftConfig {
  const ratio = (name: string, v: number | undefined) => {
    if (v !== undefined && !(v > 0 && v <= 1)) invalidProp(scope, `driftThresholds.${name}`, v, 'expected a number greater than 0 and at most 1');
  };
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) invalidProp(scope, `driftThresholds.${name}`, v, 'expected a finite number greater than 0');
  };
  ratio('datasetDriftShare', t.datasetDriftShare);
  ratio('pValueThreshold', t.pValueThreshold);
  positive('wassersteinThreshold', t.wassersteinThreshold);
  positive('jensenShannonThreshold', t.jensenShannonThreshold);
  if (t.referenceSizeLimit !== undefined && !(Number.isInteger(t.referenceSizeLimit) && t.referenceSizeLimit >= 0)) {
    invalidProp(scope, 'driftThresholds.referenceSizeLimit', t.referenceSizeLimit, 'expected an integer >= 0');
  }
  const overrides: Record<string, FeatureDriftConfig> = {};
  for (const [i, f] of (t.features ?? []).entries()) {
    const at = `driftThresholds.features[${i}]`;
    if (typeof f.feature !== 'string' || f.feature.length === 0) invalidProp(scope, `${at}.feature`, f.feature, 'expected a feature name');
    if (features && !features.includes(f.feature)) invalidProp(scope, `${at}.feature`, f.feature, `expected one of the features: ${features.join(', ')}`);
    if (overrides[f.feature] !== undefined) invalidProp(scope, `${at}.feature`, f.feature, 'expected each feature at most once');
    if (f.method !== undefined && !Object.values(DriftMethod).includes(f.method)) {
      invalidProp(scope, `${at}.method`, f.method, `expected one of ${Object.values(DriftMethod).join(', ')}`);
    }
    if (f.threshold !== undefined) {
      const pValue = f.method === undefined ? undefined : P_VALUE_METHODS.includes(f.method);
      if (!(Number.isFinite(f.threshold) && f.threshold > 0) || (pValue && f.threshold > 1)) {
        invalidProp(scope, `${at}.threshold`, f.threshold, pValue ? 'expected a p-value greater than 0 and at most 1' : 'expected a finite number greater than 0');
      }
    }
    overrides[f.feature] = {
      ...(f.method !== undefined ? { method: f.method as FeatureDriftConfig['method'] } : {}),
      ...(f.threshold !== undefined ? { threshold: f.threshold } : {}),
      ...(f.enabled !== undefined ? { enabled: f.enabled } : {}),
    };
  }
  let prediction: FeatureDriftConfig | undefined;
  if (t.prediction !== undefined) {
    const p = t.prediction;
    const categorical: readonly string[] = [DriftMethod.CHI_SQUARED, DriftMethod.JENSEN_SHANNON];
    if (p.method !== undefined && !categorical.includes(p.method)) {
      invalidProp(scope, 'driftThresholds.prediction.method', p.method,
        `expected ${DriftMethod.CHI_SQUARED} or ${DriftMethod.JENSEN_SHANNON} (the predicted class is categorical)`);
    }
    const pValue = p.method === DriftMethod.CHI_SQUARED;
    const badThreshold = p.threshold !== undefined && (!(Number.isFinite(p.threshold) && p.threshold > 0) || (pValue && p.threshold > 1));
    if (badThreshold) {
      invalidProp(scope, 'driftThresholds.prediction.threshold', p.threshold, 'expected a number greater than 0 (a p-value of at most 1 for chi-squared)');
    }
    prediction = {
      ...(p.method !== undefined ? { method: p.method as FeatureDriftConfig['method'] } : {}),
      ...(p.threshold !== undefined ? { threshold: p.threshold } : {}),
      ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
    };
  }
  return {
    ...(prediction !== undefined ? { prediction } : {}),
    ...(t.datasetDriftShare !== undefined ? { datasetDriftShare: t.datasetDriftShare } : {}),
    ...(t.pValueThreshold !== undefined ? { pValueThreshold: t.pValueThreshold } : {}),
    ...(t.wassersteinThreshold !== undefined ? { wassersteinThreshold: t.wassersteinThreshold } : {}),
    ...(t.jensenShannonThreshold !== undefined ? { jensenShannonThreshold: t.jensenShannonThreshold } : {}),
    ...(t.referenceSizeLimit !== undefined ? { referenceSizeLimit: t.referenceSizeLimit } : {}),
    ...(Object.keys(overrides).length > 0 ? { features: overrides } : {}),
  };
}
