import { Token } from 'aws-cdk-lib';

/**
 * Instance families with local NVMe instance storage (EC2 instance store volumes). SageMaker puts
 * the training storage on those disks, encrypted by a hardware module on the instance, and
 * rejects a `VolumeKmsKeyId` for them (SageMaker API reference, `ResourceConfig.VolumeKmsKeyId`
 * and `VolumeSizeInGB`: "ML instance families with the NVMe-type instance storage include ml.p4d,
 * ml.g4dn, and ml.g5"; the others from the EC2 instance-store tables).
 *
 * Families whose attribute letters include `d` (c5d, m5dn, g4dn, p3dn, p4d, p4de, c6id ...) have
 * instance storage by EC2's naming rule; the ones below have it without the letter.
 */
const NVME_FAMILIES_WITHOUT_D = new Set(['g5', 'g6', 'g6e', 'gr6', 'p5', 'p5e', 'p5en', 'p6-b200', 'trn1', 'trn1n', 'trn2']);

/** `ml.<family>.<size>`, e.g. `ml.g5.xlarge`. */
const INSTANCE_TYPE = /^ml\.([a-z0-9-]+)\.([a-z0-9]+)$/;

function hasInstanceStorage(family: string): boolean {
  if (NVME_FAMILIES_WITHOUT_D.has(family)) { return true; }
  // <series letters><generation digits><attribute letters>: local storage when the attributes hold `d`.
  const m = /^[a-z]+\d+([a-z]*)$/.exec(family);
  return m !== null && m[1].includes('d');
}

/**
 * A SageMaker training instance type, with what the construct needs to know about it: whether its
 * storage is local NVMe (no `VolumeKmsKeyId`), and whether it has NVIDIA GPUs.
 *
 * The constants are the GPU types most used for training; `TrainingInstanceType.of()` takes any
 * other type.
 *
 * In Python, jsii puts `_` between a digit and a letter in the constants' names:
 * `ML_G4DN_XLARGE` is `TrainingInstanceType.ML_G4_DN_XLARGE`, `ML_G5_2XLARGE` is
 * `ML_G5_2_XLARGE` (each constant's documentation gives its Python name where it differs).
 * `TrainingInstanceType.of("ml.g4dn.xlarge")` is the same in both languages.
 */
export class TrainingInstanceType {
  /** 1 NVIDIA T4, 4 vCPU, 16 GiB, 125 GB NVMe. Python: `ML_G4_DN_XLARGE`. */
  public static readonly ML_G4DN_XLARGE = TrainingInstanceType.of('ml.g4dn.xlarge');
  /** 1 NVIDIA T4, 8 vCPU, 32 GiB, 225 GB NVMe. Python: `ML_G4_DN_2_XLARGE`. */
  public static readonly ML_G4DN_2XLARGE = TrainingInstanceType.of('ml.g4dn.2xlarge');
  /** 4 NVIDIA T4, 48 vCPU, 192 GiB, 900 GB NVMe. Python: `ML_G4_DN_12_XLARGE`. */
  public static readonly ML_G4DN_12XLARGE = TrainingInstanceType.of('ml.g4dn.12xlarge');
  /** 1 NVIDIA A10G, 4 vCPU, 16 GiB, 250 GB NVMe. */
  public static readonly ML_G5_XLARGE = TrainingInstanceType.of('ml.g5.xlarge');
  /** 1 NVIDIA A10G, 8 vCPU, 32 GiB, 450 GB NVMe. Python: `ML_G5_2_XLARGE`. */
  public static readonly ML_G5_2XLARGE = TrainingInstanceType.of('ml.g5.2xlarge');
  /** 1 NVIDIA A10G, 16 vCPU, 64 GiB, 600 GB NVMe. Python: `ML_G5_4_XLARGE`. */
  public static readonly ML_G5_4XLARGE = TrainingInstanceType.of('ml.g5.4xlarge');
  /** 1 NVIDIA A10G, 32 vCPU, 128 GiB, 900 GB NVMe. Python: `ML_G5_8_XLARGE`. */
  public static readonly ML_G5_8XLARGE = TrainingInstanceType.of('ml.g5.8xlarge');
  /** 4 NVIDIA A10G, 48 vCPU, 192 GiB, 3800 GB NVMe. Python: `ML_G5_12_XLARGE`. */
  public static readonly ML_G5_12XLARGE = TrainingInstanceType.of('ml.g5.12xlarge');
  /** 4 NVIDIA A10G, 96 vCPU, 384 GiB, 3800 GB NVMe. Python: `ML_G5_24_XLARGE`. */
  public static readonly ML_G5_24XLARGE = TrainingInstanceType.of('ml.g5.24xlarge');
  /** 8 NVIDIA A10G, 192 vCPU, 768 GiB, 7600 GB NVMe. Python: `ML_G5_48_XLARGE`. */
  public static readonly ML_G5_48XLARGE = TrainingInstanceType.of('ml.g5.48xlarge');
  /** 1 NVIDIA L4, 4 vCPU, 16 GiB, 250 GB NVMe. */
  public static readonly ML_G6_XLARGE = TrainingInstanceType.of('ml.g6.xlarge');
  /** 1 NVIDIA L4, 8 vCPU, 32 GiB, 450 GB NVMe. Python: `ML_G6_2_XLARGE`. */
  public static readonly ML_G6_2XLARGE = TrainingInstanceType.of('ml.g6.2xlarge');
  /** 4 NVIDIA L4, 48 vCPU, 192 GiB, 3760 GB NVMe. Python: `ML_G6_12_XLARGE`. */
  public static readonly ML_G6_12XLARGE = TrainingInstanceType.of('ml.g6.12xlarge');
  /** 8 NVIDIA L4, 192 vCPU, 768 GiB, 7520 GB NVMe. Python: `ML_G6_48_XLARGE`. */
  public static readonly ML_G6_48XLARGE = TrainingInstanceType.of('ml.g6.48xlarge');
  /** 1 NVIDIA L40S, 4 vCPU, 32 GiB, 250 GB NVMe. Python: `ML_G6_E_XLARGE`. */
  public static readonly ML_G6E_XLARGE = TrainingInstanceType.of('ml.g6e.xlarge');
  /** 1 NVIDIA V100, 8 vCPU, 61 GiB, EBS only (the volume key applies). Python: `ML_P3_2_XLARGE`. */
  public static readonly ML_P3_2XLARGE = TrainingInstanceType.of('ml.p3.2xlarge');
  /** 4 NVIDIA V100, 32 vCPU, 244 GiB, EBS only. Python: `ML_P3_8_XLARGE`. */
  public static readonly ML_P3_8XLARGE = TrainingInstanceType.of('ml.p3.8xlarge');
  /** 8 NVIDIA V100, 64 vCPU, 488 GiB, EBS only. Python: `ML_P3_16_XLARGE`. */
  public static readonly ML_P3_16XLARGE = TrainingInstanceType.of('ml.p3.16xlarge');
  /** 8 NVIDIA V100 (32 GB), 96 vCPU, 768 GiB, 1800 GB NVMe, 100 Gbps. Python: `ML_P3_DN_24_XLARGE`. */
  public static readonly ML_P3DN_24XLARGE = TrainingInstanceType.of('ml.p3dn.24xlarge');
  /** 8 NVIDIA A100 (40 GB), 96 vCPU, 1152 GiB, 8000 GB NVMe, EFA. Python: `ML_P4_D_24_XLARGE`. */
  public static readonly ML_P4D_24XLARGE = TrainingInstanceType.of('ml.p4d.24xlarge');
  /** 8 NVIDIA A100 (80 GB), 96 vCPU, 1152 GiB, 8000 GB NVMe, EFA. Python: `ML_P4_DE_24_XLARGE`. */
  public static readonly ML_P4DE_24XLARGE = TrainingInstanceType.of('ml.p4de.24xlarge');
  /** 8 NVIDIA H100, 192 vCPU, 2048 GiB, 30 TB NVMe, EFA. Python: `ML_P5_48_XLARGE`. */
  public static readonly ML_P5_48XLARGE = TrainingInstanceType.of('ml.p5.48xlarge');
  /** 8 NVIDIA H200, 192 vCPU, 2048 GiB, 30 TB NVMe, EFA. Python: `ML_P5_E_48_XLARGE`. */
  public static readonly ML_P5E_48XLARGE = TrainingInstanceType.of('ml.p5e.48xlarge');
  /** 4 vCPU, 16 GiB, EBS only, no GPU: for small models and smoke tests. */
  public static readonly ML_M5_XLARGE = TrainingInstanceType.of('ml.m5.xlarge');

  /**
   * Any SageMaker training instance type, written `ml.<family>.<size>`.
   *
   * Whether it has local NVMe storage is derived from its family (EC2's naming rule: a `d` among
   * the attribute letters, as in `g4dn` or `p4d`, plus g5, g6, g6e, p5, trn1 and trn2).
   */
  public static of(instanceType: string): TrainingInstanceType {
    if (Token.isUnresolved(instanceType)) {
      throw new Error('invalid instanceType: received a token; give a literal such as \'ml.g5.xlarge\' (the construct decides at synth whether the volume key applies)');
    }
    const m = INSTANCE_TYPE.exec(instanceType);
    if (!m) {
      throw new Error(`invalid instanceType: received ${JSON.stringify(instanceType)}; expected a SageMaker training instance type 'ml.<family>.<size>' such as 'ml.g5.xlarge'`);
    }
    return new TrainingInstanceType(instanceType, hasInstanceStorage(m[1]), /^(g|p)\d/.test(m[1]));
  }

  /** The instance type, e.g. `ml.g5.xlarge`. */
  public readonly name: string;

  /**
   * True when the type's training storage is local NVMe instance storage, encrypted by the
   * instance's hardware; SageMaker rejects a `VolumeKmsKeyId` for such types.
   */
  public readonly hasLocalNvmeStorage: boolean;

  /** True for GPU families (g*, p*). */
  public readonly hasGpu: boolean;

  private constructor(name: string, hasLocalNvmeStorage: boolean, hasGpu: boolean) {
    this.name = name;
    this.hasLocalNvmeStorage = hasLocalNvmeStorage;
    this.hasGpu = hasGpu;
  }

  /** The instance type, e.g. `ml.g5.xlarge`. */
  public toString(): string {
    return this.name;
  }
}
