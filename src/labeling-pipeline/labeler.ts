import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LabelerSpec } from './runtime/contract';
import { IServerlessModelEndpoint } from '../serverless-model-endpoint/serverless-model-endpoint';
import { compileRulesLabeler, RulesLabelerConfig } from './runtime/logic/labeling';

/** How numbers are aggregated by a rules labeler. */
export enum ScoreAggregate {
  /** The arithmetic mean. */
  MEAN = 'mean',
  /** The smallest value (for hearing thresholds across ears: the better ear). */
  MIN = 'min',
  /** The largest value. */
  MAX = 'max',
}

/** A group of numeric record fields that a rules labeler aggregates to one value. */
export interface LabelingRuleGroup {
  /** Name of the group (e.g. `left`). */
  readonly id: string;
  /** Paths of numeric fields, dot-separated, `*` matches any key (e.g. `thresholds.left.500`). */
  readonly fields: string[];
}

/** A condition on the record that lowers a rules labeler's confidence or makes it abstain. */
export interface LabelingRuleCondition {
  /** Name of the condition (recorded in votes). */
  readonly id: string;
  /**
   * Path of a numeric field whose value is compared. Give exactly one of `field` and `ratioOf`.
   *
   * @default - none (use `ratioOf`)
   */
  readonly field?: string;
  /**
   * Paths of two numeric fields `[numerator, denominator]` whose ratio is compared (skipped when
   * the denominator is 0).
   *
   * @default - none (use `field`)
   */
  readonly ratioOf?: string[];
  /** The condition holds when the value is above this. */
  readonly above: number;
  /**
   * Abstain when the condition holds (the record goes to review if no other labeler answers).
   *
   * @default false
   */
  readonly abstain?: boolean;
  /**
   * Multiply the confidence by this when the condition holds.
   *
   * @default 1
   */
  readonly confidenceFactor?: number;
}

/** Properties of `Labeler.rules`. */
export interface RulesLabelerOptions {
  /** Name of the labeler, recorded in lineage as `rules:<name>@<version>`. */
  readonly name: string;
  /**
   * Version of the rules, recorded in lineage.
   *
   * @default '1'
   */
  readonly version?: string;
  /** Class names, from the lowest score to the highest. */
  readonly classes: string[];
  /** Groups of numeric fields. */
  readonly groups: LabelingRuleGroup[];
  /**
   * How the fields of one group are aggregated.
   *
   * @default ScoreAggregate.MEAN
   */
  readonly within?: ScoreAggregate;
  /**
   * How the groups' values are aggregated to the score.
   *
   * @default ScoreAggregate.MIN
   */
  readonly across?: ScoreAggregate;
  /**
   * Ascending thresholds, one fewer than classes: the class is the number of thresholds at or
   * below the score.
   */
  readonly thresholds: number[];
  /**
   * Distance to a threshold below which the confidence falls linearly to `confidenceAtBoundary`.
   *
   * @default 0
   */
  readonly boundaryMargin?: number;
  /**
   * Confidence away from any threshold.
   *
   * @default 1
   */
  readonly maxConfidence?: number;
  /**
   * Confidence exactly at a threshold.
   *
   * @default 0.5
   */
  readonly confidenceAtBoundary?: number;
  /**
   * Conditions that lower the confidence or make the labeler abstain.
   *
   * @default - none
   */
  readonly conditions?: LabelingRuleCondition[];
}

/** Properties of `Labeler.fromFunction`. */
export interface FunctionLabelerOptions {
  /** Name of the labeler, recorded in lineage as `function:<name>@<version>`. */
  readonly name: string;
  /**
   * Version recorded in lineage (change it when the function's logic changes).
   *
   * @default '1'
   */
  readonly version?: string;
}

/** Properties of `Labeler.fromModelEndpoint`. */
export interface ModelLabelerOptions {
  /** Name of the labeler, recorded in lineage as `model:<name>@<version>`. */
  readonly name: string;
  /** Version recorded in lineage (e.g. the model version). */
  readonly version: string;
  /** Name of the model's input tensor. */
  readonly inputName: string;
  /** Record paths of the features, in the model's input order. */
  readonly features: string[];
  /**
   * Model class name → task class name, when they differ.
   *
   * @default - the model's class names are the task's
   */
  readonly classMap?: { [modelClass: string]: string };
}

/**
 * A labeler of a `LabelingPipeline`: declarative rules, any Lambda function (any language), or a
 * `ServerlessModelEndpoint`. Each returns a class and a confidence, or abstains.
 *
 * Create one with the static factories, never with `new` (the class is abstract; the
 * constructor that API references list is not for use): `Labeler.rules(...)` (declarative rules),
 * `Labeler.rulesFromObject(...)` (the same rules as a JSON document), `Labeler.fromFunction(...)`
 * (any Lambda function) and `Labeler.fromModelEndpoint(...)` (a `ServerlessModelEndpoint`). In
 * Python: `Labeler.rules(...)`, `Labeler.rules_from_object(...)`, `Labeler.from_function(...)`,
 * `Labeler.from_model_endpoint(...)`.
 *
 * The JSON contract of a function labeler: it is invoked synchronously with
 * `{"recordId": "rec-…", "record": {…the clean, pseudonymized record…}}` and answers
 * `{"kind": "label", "className": "<one of the classes>", "confidence": 0.93}` or
 * `{"kind": "abstain", "reason": "<short code>"}`. Anything else, or a function error, counts as
 * an abstention; a throttled invocation is retried.
 */
export abstract class Labeler {
  /**
   * Declarative rules: an aggregate of chosen numeric fields, thresholds to classes, lower
   * confidence near a threshold, and conditions. Runs inside the labeling handler.
   *
   * @param options the rules
   */
  public static rules(options: RulesLabelerOptions): Labeler {
    if (options.conditions?.some((c) => (c.field === undefined) === (c.ratioOf === undefined) || (c.ratioOf && c.ratioOf.length !== 2))) {
      throw new Error(`Labeler.rules(${JSON.stringify(options.name)}): each condition needs exactly one of field and ratioOf (two paths)`);
    }
    const config: RulesLabelerConfig = {
      id: `rules:${options.name}`,
      version: options.version ?? '1',
      classes: options.classes,
      groups: options.groups.map((g) => ({ id: g.id, fields: g.fields })),
      within: options.within ?? ScoreAggregate.MEAN,
      across: options.across ?? ScoreAggregate.MIN,
      thresholds: options.thresholds,
      boundaryMargin: options.boundaryMargin ?? 0,
      confidence: { max: options.maxConfidence ?? 1, atBoundary: options.confidenceAtBoundary ?? 0.5 },
      conditions: (options.conditions ?? []).map((c) => ({
        id: c.id,
        ...(c.field !== undefined ? { field: c.field } : { ratio: { numerator: c.ratioOf![0], denominator: c.ratioOf![1] } }),
        above: c.above,
        abstain: c.abstain ?? false,
        confidenceFactor: c.confidenceFactor ?? 1,
      })),
    };
    return Labeler.rulesFromObject(config as unknown as { [key: string]: any });
  }

  /**
   * Declarative rules from a JSON document in the handler's own format (`id`, `version`,
   * `classes`, `groups`, `within`, `across`, `thresholds`, `boundaryMargin`, `confidence`,
   * `conditions`), e.g. read from a file shared with tests.
   *
   * @param document the rules labeler document
   */
  public static rulesFromObject(document: { [key: string]: any }): Labeler {
    const compiled = compileRulesLabeler(document as RulesLabelerConfig);
    return new SpecLabeler({ kind: 'rules', rules: document as RulesLabelerConfig }, `${compiled.id}@${compiled.version}`, compiled.classes);
  }

  /**
   * Any Lambda function, in any language, that follows the labeler JSON contract.
   *
   * @param fn the function (a version or alias is best, so lineage matches the code)
   * @param options name and version for lineage
   */
  public static fromFunction(fn: lambda.IFunction, options: FunctionLabelerOptions): Labeler {
    return new SpecLabeler(
      { kind: 'function', id: `function:${options.name}`, version: options.version ?? '1', functionArn: fn.functionArn },
      `function:${options.name}@${options.version ?? '1'}`,
      undefined,
      (grantee) => fn.grantInvoke(grantee),
    );
  }

  /**
   * A model served by a `ServerlessModelEndpoint`: its live alias is invoked with the record's
   * features, and the predicted class's probability is the confidence.
   *
   * @param endpoint the endpoint
   * @param options the model input and features
   */
  public static fromModelEndpoint(endpoint: IServerlessModelEndpoint, options: ModelLabelerOptions): Labeler {
    if (options.features.length === 0) {
      throw new Error(`Labeler.fromModelEndpoint(${JSON.stringify(options.name)}): features must name at least one record path`);
    }
    return new SpecLabeler(
      {
        kind: 'model',
        id: `model:${options.name}`,
        version: options.version,
        functionArn: endpoint.alias.functionArn,
        inputName: options.inputName,
        features: options.features,
        ...(options.classMap ? { classMap: options.classMap } : {}),
      },
      `model:${options.name}@${options.version}`,
      undefined,
      (grantee) => endpoint.alias.grantInvoke(grantee),
    );
  }

  /** `<kind>:<name>@<version>`, as recorded in lineage. */
  public abstract readonly ref: string;

  /** @internal */
  public abstract _spec(): LabelerSpec;

  /**
   * The classes the labeler can answer, when known at synth.
   *
   * @internal
   */
  public abstract _classes(): readonly string[] | undefined;

  /**
   * Grant the labeling handler what it needs to call the labeler.
   *
   * @internal
   */
  public abstract _bind(grantee: iam.IGrantable): void;
}

class SpecLabeler extends Labeler {
  constructor(
    private readonly spec: LabelerSpec,
    public readonly ref: string,
    private readonly classes: readonly string[] | undefined,
    private readonly bind: (grantee: iam.IGrantable) => void = () => undefined,
  ) {
    super();
  }

  public _spec(): LabelerSpec {
    return this.spec;
  }

  public _classes(): readonly string[] | undefined {
    return this.classes;
  }

  public _bind(grantee: iam.IGrantable): void {
    this.bind(grantee);
  }
}
