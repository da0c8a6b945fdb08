/**
 * Validators for emitted lineage: the vendored OpenLineage 2-0-2 JSON Schema
 * (test/fixtures/openlineage/, `#/$defs/RunEvent` and the whole schema's oneOf) and the library's
 * custom facets (docs/lineage-facets.json), with Ajv draft 2020-12 and ajv-formats (uri, uuid,
 * date-time). `expectValidRunEvent` fails with Ajv's errors.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { LINEAGE_FACET_DEFS, LINEAGE_FACETS } from '../../src/contract/lineage';

const ROOT = path.resolve(__dirname, '..', '..');
export const OPENLINEAGE_SCHEMA = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'openlineage', 'OpenLineage-2-0-2.json'), 'utf8'));
export const FACETS_SCHEMA = JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', 'lineage-facets.json'), 'utf8'));

function compile(): { runEvent: ValidateFunction; anyEvent: ValidateFunction; facets: Record<string, ValidateFunction> } {
  // `example` is an annotation the 2-0-2 schema uses; strict mode would reject the unknown keyword.
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
  ajv.addKeyword('example');
  addFormats(ajv);
  ajv.addSchema(OPENLINEAGE_SCHEMA);
  ajv.addSchema(FACETS_SCHEMA);
  const id = OPENLINEAGE_SCHEMA.$id as string;
  const facets: Record<string, ValidateFunction> = {};
  for (const [k, name] of Object.entries(LINEAGE_FACETS)) {
    facets[name] = ajv.getSchema(`${FACETS_SCHEMA.$id}#/$defs/${LINEAGE_FACET_DEFS[k as keyof typeof LINEAGE_FACETS]}`)!;
  }
  return { runEvent: ajv.getSchema(`${id}#/$defs/RunEvent`)!, anyEvent: ajv.getSchema(id)!, facets };
}

export const validators = compile();

/** Every facet object in an event, with its name. */
export function facetsOf(event: any): Array<[string, any]> {
  const out: Array<[string, any]> = [];
  const take = (o: any) => Object.entries(o ?? {}).forEach(([k, v]) => out.push([k, v]));
  take(event.run?.facets);
  take(event.job?.facets);
  for (const d of [...(event.inputs ?? []), ...(event.outputs ?? [])]) {
    take(d.facets);
    take(d.inputFacets);
    take(d.outputFacets);
  }
  return out;
}

/** Errors of an event against RunEvent 2-0-2, the whole schema, and each custom facet's definition ([] when valid). */
export function runEventErrors(event: unknown): string[] {
  const errors: string[] = [];
  const check = (v: ValidateFunction, what: string, x: unknown) => {
    if (!v(x)) errors.push(`${what}: ${JSON.stringify(v.errors)}`);
  };
  check(validators.runEvent, 'RunEvent', event);
  check(validators.anyEvent, 'OpenLineage.json', event);
  for (const [name, facet] of facetsOf(event)) {
    const v = validators.facets[name];
    if (!v) errors.push(`facet ${name} has no schema in docs/lineage-facets.json`);
    else check(v, `facet ${name}`, facet);
  }
  return errors;
}

export function expectValidRunEvent(event: unknown): void {
  expect(runEventErrors(event)).toEqual([]);
}
