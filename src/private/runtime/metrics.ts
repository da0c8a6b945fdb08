/**
 * Handler metrics: CloudWatch embedded metric format (EMF) records written by Powertools for AWS
 * Lambda (`@aws-lambda-powertools/metrics`), one JSON line per record, which CloudWatch Logs turns
 * into metrics. Every construct's alarms and dashboards read its handlers' metrics under one
 * namespace with one dimension set: `service`.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The units the handlers use (Powertools' `MetricUnit` values). */
export type MetricUnitName = typeof MetricUnit.Milliseconds | typeof MetricUnit.Count | typeof MetricUnit.Bytes;

export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnitName;
}

/** Writes one EMF record of a fixed set of metrics: `record([values...], properties)`. */
export type MetricRecorder = (values: readonly number[], properties?: Readonly<Record<string, unknown>>) => void;

/** Where a record goes instead of stdout (tests, local runs): one line of JSON, no newline. */
export type MetricLineWriter = (line: string) => void;

/**
 * Powertools Metrics for one handler: `namespace`, and `service` as the one dimension of every
 * record (Powertools' default dimension).
 */
export function createMetrics(namespace: string, service: string): Metrics {
  return new Metrics({ namespace, serviceName: service });
}

/**
 * A recorder for `definitions` on `metrics`: each call writes one record with the values in the
 * order of the definitions, the dimension (`service`) and the properties (searchable in Logs
 * Insights, not metrics: keep them free of payload values). Properties named like the dimension, a
 * metric or `_aws` are dropped; a non-finite value is written as 0 (EMF accepts numbers only).
 *
 * The record is published by Powertools (stdout), or, with `write`, serialized by Powertools and
 * handed to `write`.
 */
export function metricRecorder(metrics: Metrics, definitions: readonly MetricDefinition[], write?: MetricLineWriter): MetricRecorder {
  const reserved = new Set(['_aws', 'service', ...definitions.map((d) => d.name)]);
  return (values, properties) => {
    if (properties) {
      for (const key in properties) {
        // EMF properties are any JSON value; Powertools types metadata as strings but writes the
        // value as given (numbers stay numbers for Logs Insights queries).
        if (!reserved.has(key)) metrics.addMetadata(key, properties[key] as string);
      }
    }
    for (let i = 0; i < definitions.length; i++) {
      const v = values[i];
      metrics.addMetric(definitions[i].name, definitions[i].unit, Number.isFinite(v) ? v : 0);
    }
    if (!write) {
      metrics.publishStoredMetrics();
      return;
    }
    let line: string;
    try {
      line = JSON.stringify(metrics.serializeMetrics());
    } finally {
      metrics.clearMetrics();
      metrics.clearMetadata();
    }
    write(line);
  };
}
