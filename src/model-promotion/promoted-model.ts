import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { PromotedModelOptions } from './promotion-options';
import { PROMOTED_MODEL_ENV } from './runtime/contract';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';
import { ModelArtifact } from '../serverless-model-endpoint/model-artifact';

/** Where a promotion records the promoted model by default. */
export function defaultPromotedModelParameterName(modelName: string): string {
  return `/cdk-secure-mlops/model-promotion/${modelName}/promoted-model`;
}

/** What the lookup returns while the parameter is unknown (first synthesis, or never promoted). */
const NOT_PROMOTED = 'not-promoted';

/**
 * The model the endpoint must be deployed with so that a deployment keeps the promoted version:
 * the parameter's value, read at synthesis (an SSM context lookup, cached in cdk.context.json),
 * or the fallback.
 */
export function promotedModel(scope: Construct, lake: ISecureDataLake, options: PromotedModelOptions): ModelArtifact {
  const name = options.parameterName ?? defaultPromotedModelParameterName(options.modelName);
  const raw = ssm.StringParameter.valueFromLookup(scope, name, NOT_PROMOTED);
  let value: Record<string, unknown> | undefined;
  try {
    value = raw === NOT_PROMOTED ? undefined : JSON.parse(raw);
  } catch {
    value = undefined;
  }
  const key = value?.[PROMOTED_MODEL_ENV.modelKey];
  const sha256 = value?.[PROMOTED_MODEL_ENV.modelSha256];
  const version = value?.[PROMOTED_MODEL_ENV.modelVersion];
  if (typeof key !== 'string' || typeof sha256 !== 'string' || typeof version !== 'string' || !key.startsWith(`${options.modelName}/models/`)) {
    return options.fallback;
  }
  return ModelArtifact.fromDataLake(lake, key, { version, sha256, classNames: options.classNames ?? options.fallback.classNames });
}
