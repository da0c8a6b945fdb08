/**
 * A zone of the data lake: one S3 bucket with its own purpose, lifecycle and grants.
 *
 * Records move forward through the zones: uploads land in `RAW`; the labeling pipeline writes
 * validated, pseudonymized records to `CLEAN` and rejected ones (with a reason) to `QUARANTINE`;
 * labelled records and dataset manifests go to `CURATED`; trained model artifacts to `MODELS`.
 * The value is the zone's name, used in log prefixes and events.
 */
export enum DataZone {
  /** Uploads exactly as received from clients. Holds identifiers; only the cleaning step reads it. */
  RAW = 'raw',
  /** Validated, normalized, pseudonymized records. */
  CLEAN = 'clean',
  /** Labelled records and versioned dataset manifests (training-ready). */
  CURATED = 'curated',
  /** Rejected records, each with a sidecar that says why. */
  QUARANTINE = 'quarantine',
  /** Trained model artifacts and their metadata. */
  MODELS = 'models',
}
