/**
 * A zone of the data lake: one S3 bucket with its own purpose, lifecycle and grants.
 *
 * Records move forward through the zones: uploads land in `RAW`; the labeling pipeline writes
 * validated, pseudonymized records to `CLEAN` and rejected ones (with a reason) to `QUARANTINE`;
 * labelled records and dataset manifests go to `CURATED`; trained model artifacts to `MODELS`.
 */
export class DataZone {
  /** Uploads exactly as received from clients. Holds identifiers; only the cleaning step reads it. */
  public static readonly RAW = new DataZone('raw', 'Raw');
  /** Validated, normalized, pseudonymized records. */
  public static readonly CLEAN = new DataZone('clean', 'Clean');
  /** Labelled records and versioned dataset manifests (training-ready). */
  public static readonly CURATED = new DataZone('curated', 'Curated');
  /** Rejected records, each with a sidecar that says why. */
  public static readonly QUARANTINE = new DataZone('quarantine', 'Quarantine');
  /** Trained model artifacts and their metadata. */
  public static readonly MODELS = new DataZone('models', 'Models');

  /** Every zone, in the order records flow through them. */
  public static readonly ALL: DataZone[] = [
    DataZone.RAW,
    DataZone.CLEAN,
    DataZone.CURATED,
    DataZone.QUARANTINE,
    DataZone.MODELS,
  ];

  /**
   * @param name lower-case zone name, used in outputs, log prefixes and events
   * @param constructId PascalCase id of the zone's bucket (part of the construct contract)
   */
  private constructor(public readonly name: string, public readonly constructId: string) {}

  /** The zone name. */
  public toString(): string {
    return this.name;
  }
}
