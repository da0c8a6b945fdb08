import { Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * Options of a training image built from a local directory.
 */
export interface TrainingImageAssetOptions extends ecrAssets.DockerImageAssetOptions {}

/**
 * What a bound training image gives the job.
 */
export interface TrainingImageConfig {
  /** The image URI that SageMaker pulls (`AlgorithmSpecification.TrainingImage`). */
  readonly imageUri: string;
}

/** Actions SageMaker needs on a repository to pull an image. */
const PULL_ACTIONS = ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'];

/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag][@sha256:digest]` */
const ECR_URI = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*)(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/**
 * The container image that runs the training script (SageMaker's training container contract:
 * channels under `/opt/ml/input/data/<channel>`, the model to `/opt/ml/model`).
 */
export abstract class TrainingImage {
  /**
   * An image built from a local directory with a Dockerfile. Staged at synth, built and pushed
   * to the CDK assets repository when you deploy (Docker needed there, not at synth).
   *
   * @param directory the build context
   * @param options build options
   * @default - options: platform `linux/amd64` (SageMaker GPU instances are x86_64)
   */
  public static fromAsset(directory: string, options: TrainingImageAssetOptions = {}): TrainingImage {
    return new AssetTrainingImage(directory, options);
  }

  /**
   * An image in an ECR repository.
   *
   * @param repository the repository
   * @param tag the tag, or a digest (`sha256:...`)
   * @default - tag: `latest`
   */
  public static fromEcrRepository(repository: ecr.IRepository, tag: string = 'latest'): TrainingImage {
    return new EcrTrainingImage(repository, tag);
  }

  /**
   * An image by URI, for example an AWS Deep Learning Container
   * (`763104351884.dkr.ecr.eu-central-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311`).
   * SageMaker pulls training images from ECR only: a literal URI must be an ECR URI, and the
   * execution role gets pull access to that repository.
   *
   * @param imageUri the image URI
   */
  public static fromRegistry(imageUri: string): TrainingImage {
    return new RegistryTrainingImage(imageUri);
  }

  /**
   * Bind the image to a training job: create what it needs in `scope` and let `grantee` pull it.
   *
   * @internal
   */
  public abstract _bind(scope: Construct, grantee: iam.IGrantable): TrainingImageConfig;
}

class AssetTrainingImage extends TrainingImage {
  constructor(private readonly directory: string, private readonly options: TrainingImageAssetOptions) {
    super();
  }

  public _bind(scope: Construct, grantee: iam.IGrantable): TrainingImageConfig {
    const asset = new ecrAssets.DockerImageAsset(scope, 'TrainingImage', {
      platform: ecrAssets.Platform.LINUX_AMD64,
      ...this.options,
      directory: this.directory,
    });
    asset.repository.grantPull(grantee);
    return { imageUri: asset.imageUri };
  }
}

class EcrTrainingImage extends TrainingImage {
  constructor(private readonly repository: ecr.IRepository, private readonly tag: string) {
    super();
  }

  public _bind(_scope: Construct, grantee: iam.IGrantable): TrainingImageConfig {
    this.repository.grantPull(grantee);
    return {
      imageUri: this.tag.startsWith('sha256:')
        ? this.repository.repositoryUriForDigest(this.tag)
        : this.repository.repositoryUriForTag(this.tag),
    };
  }
}

class RegistryTrainingImage extends TrainingImage {
  constructor(private readonly imageUri: string) {
    super();
  }

  public _bind(scope: Construct, grantee: iam.IGrantable): TrainingImageConfig {
    iam.Grant.addToPrincipal({ grantee, actions: ['ecr:GetAuthorizationToken'], resourceArns: ['*'] });
    if (Token.isUnresolved(this.imageUri)) {
      // The repository is unknown at synth: the caller grants pull access to it.
      return { imageUri: this.imageUri };
    }
    const m = ECR_URI.exec(this.imageUri);
    if (!m) {
      throw new Error(`${scope.node.path}: invalid trainingImage: TrainingImage.fromRegistry(${JSON.stringify(this.imageUri)}) is not an ECR image URI; SageMaker pulls training images from ECR: give '<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>', or use fromEcrRepository / fromAsset`);
    }
    const [, account, region, repositoryName] = m;
    iam.Grant.addToPrincipal({
      grantee,
      actions: PULL_ACTIONS,
      resourceArns: [`arn:${Stack.of(scope).partition}:ecr:${region}:${account}:repository/${repositoryName}`],
    });
    return { imageUri: this.imageUri };
  }
}
