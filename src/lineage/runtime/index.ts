/**
 * Lineage of the ML lifecycle in the OpenLineage 2-0-2 run-event format (docs/lineage.md): event
 * builders, the writer (lake's curated zone), the queries, the optional DataZone sender. Runtime
 * code with injected SDK clients: for handlers, scripts and the CLI (src/lineage/cli.ts).
 */
export * from './events';
export * from './writer';
export * from './query';
export * from './datazone';
export * from '../../contract/lineage';
