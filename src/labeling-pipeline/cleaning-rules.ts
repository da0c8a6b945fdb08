import * as fs from 'node:fs';
import { compileCleaner, CleaningConfig } from './runtime/logic/cleaning';

/**
 * The cleaning rules of a `LabelingPipeline`: a JSON document with the JSON Schema of the records,
 * unit normalizations, declarative checks (required, range with step, allowed values, not in the
 * future, ratio limits), the identifier fields to pseudonymize, the fields to remove, and how the
 * content-derived record id is formed.
 *
 * The document is validated at synth (the same compiler the handler runs), so a bad rule fails
 * `cdk synth` with a message that names it. Every rule of `normalize` and `checks` needs an `id`.
 *
 * The format (every key, its type and default, an example per check type, the quarantine reason
 * codes) is documented in `docs/cleaning-rules.md` of the package's repository. The document's
 * keys are JSON keys, camelCase in every language: from Python, pass a `dict` with the keys as
 * documented (`CleaningRules.from_object({"subjectField": "patientId"})`), not snake_case; keys
 * the format does not know are ignored.
 */
export class CleaningRules {
  /**
   * Rules from a JSON-compatible object (a TypeScript object literal, a Python dict), with the
   * keys of the JSON format: camelCase in Python too (`"subjectField"`, `"maxBytes"`).
   *
   * @param document the cleaning rules
   */
  public static fromObject(document: { [key: string]: any }): CleaningRules {
    return new CleaningRules(document as CleaningConfig);
  }

  /**
   * Rules from a JSON file, read at synth.
   *
   * @param path path of the JSON file
   */
  public static fromFile(path: string): CleaningRules {
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf8');
    } catch (e) {
      throw new Error(`CleaningRules.fromFile: cannot read ${path}: ${(e as Error).message}`);
    }
    try {
      return new CleaningRules(JSON.parse(text));
    } catch (e) {
      throw new Error(`CleaningRules.fromFile: ${path} is not valid JSON: ${(e as Error).message}`);
    }
  }

  /** Version of the rules, recorded in lineage (changing it lets a backfill re-run records). */
  public readonly version: string;

  /** SHA-256 of the canonical schema ('' without a schema), recorded in dataset cards. */
  public readonly schemaSha256: string;

  private constructor(private readonly document: CleaningConfig) {
    const compiled = compileCleaner(document, () => '00');
    this.version = compiled.configVersion;
    this.schemaSha256 = compiled.schemaSha256;
  }

  /**
   * The rules as the handlers read them.
   *
   * @internal
   */
  public _toConfig(): CleaningConfig {
    return this.document;
  }
}
