import { DataZone } from './data-zone';

/**
 * Every zone, in the order records flow through them.
 *
 * @internal
 */
export const ALL_ZONES: readonly DataZone[] = [DataZone.RAW, DataZone.CLEAN, DataZone.CURATED, DataZone.QUARANTINE, DataZone.MODELS];

/**
 * The construct id of a zone's bucket: part of the construct contract (renaming it replaces the
 * bucket).
 *
 * @internal
 */
export function zoneConstructId(zone: DataZone): string {
  return zone.charAt(0).toUpperCase() + zone.slice(1);
}
