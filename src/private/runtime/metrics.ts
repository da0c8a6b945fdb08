/**
 * CloudWatch embedded metric format (EMF): one JSON log line that CloudWatch Logs turns into
 * metrics. Hand-written because `@aws-lambda-powertools/metrics` is not a dependency; the format
 * is https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

export type MetricUnit = 'Milliseconds' | 'Count' | 'Bytes';

export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnit;
}

export interface MetricDatum extends MetricDefinition {
  readonly value: number;
}

/** Metric names the handler emits (the construct's alarms and dashboards use them). */
export const METRIC = {
  /** Once per execution environment: reading, hashing and session creation, ms. */
  modelLoadTime: 'ModelLoadTime',
  /** Per request: the handler's whole path (decode, parse, validate, run, serialize), ms. */
  requestLatency: 'RequestLatency',
  /** Per request: `session.run` alone, ms. */
  inferenceLatency: 'InferenceLatency',
  /** Per request: examples in the batch. */
  batchSize: 'BatchSize',
  /** Per refused request (4xx). */
  clientErrors: 'ClientErrors',
  /** Per server fault (5xx), including a model that failed to load. */
  serverErrors: 'ServerErrors',
} as const;

/** Writes EMF lines for one fixed set of metrics: `encode([values...], properties)`. */
export type EmfEncoder = (values: readonly number[], properties?: Readonly<Record<string, unknown>>, timestamp?: number) => string;

/**
 * Compile an encoder for `metrics` under `namespace` with one dimension set (`dimensions`). The
 * static parts of the record are serialized once. A line carries, in this order, the properties
 * (searchable in Logs Insights, not metrics: keep them free of payload values), the dimensions,
 * the metric values and the `_aws` metadata; properties named like a dimension, a metric or
 * `_aws` are dropped. A non-finite value is written as 0 (EMF accepts numbers only).
 */
export function emfEncoder(namespace: string, dimensions: Readonly<Record<string, string>>, metrics: readonly MetricDefinition[]): EmfEncoder {
  const reserved = new Set(['_aws', ...Object.keys(dimensions), ...metrics.map((m) => m.name)]);
  const dimensionsJson = JSON.stringify(dimensions).slice(1, -1);
  const names = metrics.map((m) => JSON.stringify(m.name));
  const directive = JSON.stringify([{
    Namespace: namespace,
    Dimensions: [Object.keys(dimensions)],
    Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
  }]);
  return (values, properties, timestamp = Date.now()) => {
    let line = '{';
    if (properties) {
      let kept: Record<string, unknown> | undefined;
      for (const k in properties) {
        if (reserved.has(k)) {
          kept ??= { ...properties };
          delete kept[k];
        }
      }
      const json = JSON.stringify(kept ?? properties);
      if (json.length > 2) line += json.slice(1, -1) + ',';
    }
    if (dimensionsJson) line += dimensionsJson + ',';
    for (let i = 0; i < names.length; i++) {
      const v = values[i];
      line += `${names[i]}:${Number.isFinite(v) ? v : 0},`;
    }
    return `${line}"_aws":{"Timestamp":${timestamp},"CloudWatchMetrics":${directive}}}`;
  };
}

/** One EMF record as a single line of JSON (see `emfEncoder`; compile one for a hot path). */
export function emfLine(
  namespace: string,
  dimensions: Readonly<Record<string, string>>,
  metrics: readonly MetricDatum[],
  properties: Readonly<Record<string, unknown>> = {},
  timestamp: number = Date.now(),
): string {
  return emfEncoder(namespace, dimensions, metrics)(metrics.map((m) => m.value), properties, timestamp);
}
