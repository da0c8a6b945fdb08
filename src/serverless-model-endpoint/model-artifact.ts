import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { ENDPOINT_ENV, MODEL_SOURCE, PACKAGED_MODEL_PATH } from './runtime/contract';
import { DataZone } from '../secure-data-lake/data-zone';
import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';

/**
 * What is known about a model besides its bytes.
 */
export interface ModelMetadata {
  /**
   * The model version every response names (for example `hearing-who-grade@3`).
   */
  readonly version: string;

  /**
   * Class names of a classifier, in the order of its output logits. When set, responses carry
   * the predicted class and its probability for every example.
   *
   * @default - not a classifier: raw outputs only
   */
  readonly classNames?: string[];
}

/**
 * Options of a model stored in S3.
 */
export interface S3ModelOptions extends ModelMetadata {
  /**
   * The SHA-256 (hex) of the `.onnx` object. The function refuses to start when the bytes it
   * downloads do not match.
   */
  readonly sha256: string;
}

/**
 * Options of a model file bundled with the function.
 */
export interface AssetModelOptions extends ModelMetadata {}

/**
 * Where the function of a `ServerlessModelEndpoint` finds its ONNX model, and what is known about
 * it (version, class names).
 *
 * Create one with the static factories, never with `new` (the class is abstract; the
 * constructor that API references list is not for use): `ModelArtifact.fromAsset(...)` (a local
 * `.onnx` file packaged with the function), `ModelArtifact.fromBucket(...)` (an object in any
 * bucket) and `ModelArtifact.fromDataLake(...)` (an object in a lake's models zone). In Python:
 * `ModelArtifact.from_asset(...)`, `ModelArtifact.from_bucket(...)`,
 * `ModelArtifact.from_data_lake(...)`.
 */
export abstract class ModelArtifact {
  /**
   * A local `.onnx` file, packaged with the function (zip or image). Its SHA-256 is computed at
   * synth and checked when the function starts.
   */
  public static fromAsset(filePath: string, options: AssetModelOptions): ModelArtifact {
    return new AssetModelArtifact(filePath, options);
  }

  /**
   * An `.onnx` object in any bucket, downloaded once per execution environment at init.
   */
  public static fromBucket(bucket: s3.IBucket, key: string, options: S3ModelOptions): ModelArtifact {
    return new S3ModelArtifact(bucket, key, options, (grantee) => bucket.grantRead(grantee, key));
  }

  /**
   * An `.onnx` object in the models zone of a data lake (SSE-KMS), downloaded once per
   * execution environment at init.
   */
  public static fromDataLake(lake: ISecureDataLake, key: string, options: S3ModelOptions): ModelArtifact {
    return new S3ModelArtifact(lake.bucket(DataZone.MODELS), key, options, (grantee) => lake.grantRead(grantee, DataZone.MODELS, key));
  }

  /** The model version. */
  public abstract readonly version: string;
  /** Class names, for classifiers. */
  public abstract readonly classNames?: string[];

  /**
   * Bind the artifact to the function: environment variables, grants, and the file to package.
   *
   * @internal
   */
  public abstract _bind(scope: IConstruct, grantee: iam.IGrantable): ModelBinding;
}

/**
 * @internal
 */
export interface ModelBinding {
  readonly environment: Record<string, string>;
  /** A file to copy into the package as `model/model.onnx` (`PACKAGED_MODEL_PATH`). */
  readonly packagedFile?: string;
  /** SHA-256 of the model (part of the code asset hash when packaged). */
  readonly sha256: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

class AssetModelArtifact extends ModelArtifact {
  public readonly version: string;
  public readonly classNames?: string[];

  constructor(private readonly filePath: string, options: AssetModelOptions) {
    super();
    this.version = options.version;
    this.classNames = options.classNames;
  }

  public _bind(scope: IConstruct): ModelBinding {
    const file = path.resolve(this.filePath);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw new Error(`${scope.node.path}: invalid model: ModelArtifact.fromAsset(${JSON.stringify(this.filePath)}) is not a file; give the path of an .onnx file`);
    }
    const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    return {
      environment: {
        [ENDPOINT_ENV.modelSource]: MODEL_SOURCE.asset,
        [ENDPOINT_ENV.modelPath]: PACKAGED_MODEL_PATH,
        [ENDPOINT_ENV.modelSha256]: sha256,
      },
      packagedFile: file,
      sha256,
    };
  }
}

class S3ModelArtifact extends ModelArtifact {
  public readonly version: string;
  public readonly classNames?: string[];

  constructor(
    private readonly bucket: s3.IBucket,
    private readonly key: string,
    private readonly options: S3ModelOptions,
    private readonly grant: (grantee: iam.IGrantable) => iam.Grant,
  ) {
    super();
    this.version = options.version;
    this.classNames = options.classNames;
  }

  public _bind(scope: IConstruct, grantee: iam.IGrantable): ModelBinding {
    if (!SHA256.test(this.options.sha256)) {
      throw new Error(`${scope.node.path}: invalid model sha256: received ${JSON.stringify(this.options.sha256)}; expected 64 lower-case hex characters (sha256sum of the .onnx file)`);
    }
    if (this.key.length === 0 || this.key.startsWith('/') || this.key.includes('*')) {
      throw new Error(`${scope.node.path}: invalid model key: received ${JSON.stringify(this.key)}; expected an object key such as "hearing/v3/model.onnx" (no leading "/", no "*")`);
    }
    this.grant(grantee);
    return {
      environment: {
        [ENDPOINT_ENV.modelSource]: MODEL_SOURCE.s3,
        [ENDPOINT_ENV.modelBucket]: this.bucket.bucketName,
        [ENDPOINT_ENV.modelKey]: this.key,
        [ENDPOINT_ENV.modelSha256]: this.options.sha256,
      },
      sha256: this.options.sha256,
    };
  }
}
