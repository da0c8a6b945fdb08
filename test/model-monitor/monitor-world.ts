/**
 * Test data for the drift job, written with the contract's key functions: baselines
 * (`computeBaseline`), capture lines (`PredictionCapture`), ground-truth lines, and an in-memory S3
 * (ListObjectsV2 with prefix, delimiter and pagination; GetObject; PutObject) for the property
 * tests and the benchmark. The moto tests write the same objects into moto_server.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { CAPTURE_VERSION, GroundTruthLine, MONITORING_KEYS, PredictionCapture } from '../../src/contract/monitoring';
import { MonitorConfig } from '../../src/model-monitor/runtime/contract';
import { S3Api } from '../../src/model-monitor/runtime/drift-io';
import { EventsApi } from '../../src/model-monitor/runtime/drift-job';
import { computeBaseline, DriftBaseline, SeededRandom } from '../../src/model-monitor/runtime/logic';

export const ENDPOINT = 'hearing-who';
export const BUCKET = 'models-bucket';
export const KEY_ARN = 'arn:aws:kms:eu-central-1:111111111111:key/00000000-0000-0000-0000-000000000001';
/** The reference model's 12 features (pure-tone thresholds of both ears). */
export const FEATURES = ['left', 'right'].flatMap((ear) => ['250', '500', '1000', '2000', '4000', '8000'].map((f) => `${ear}.${f}`));
export const CLASSES = ['normal', 'mild', 'moderate'];
export const SHA_A = 'a1'.repeat(32);
export const SHA_B = 'b2'.repeat(32);

export function monitorConfig(overrides: Partial<MonitorConfig> = {}): MonitorConfig {
  return {
    captureName: ENDPOINT,
    service: 'Test/Monitor',
    windowHours: 24,
    minimumRows: 100,
    maxRowsPerModel: 100_000,
    groundTruthLookbackDays: 30,
    maxGroundTruthLabels: 200_000,
    drift: {},
    ...overrides,
  };
}

/** Standard normal features, shifted by `shift[name]`; the class follows the first feature. */
export function drawFeatures(random: SeededRandom, shift: Record<string, number> = {}): { features: number[]; predicted: string } {
  const features = FEATURES.map((f) => random.normal() + (shift[f] ?? 0));
  const predicted = features[0] < -0.5 ? 'normal' : features[0] < 0.5 ? 'mild' : 'moderate';
  return { features, predicted };
}

/**
 * A baseline of `n` reference rows (more than 1000: Wasserstein / Jensen–Shannon), every value kept
 * as its sample: with the default sample of 1000, the sample's own error makes an undrifted feature
 * cross the 0.1 threshold now and then (about 0.1 at worst over 48 features × windows in a scan of
 * seeds), which these tests must not depend on.
 */
export function makeBaseline(sha: string, n = 5000, seed = 13): DriftBaseline {
  const random = new SeededRandom(seed);
  const rows = Array.from({ length: n }, () => drawFeatures(random));
  return computeBaseline(
    { modelSha256: sha, features: FEATURES.map((name) => ({ name })), rows: rows.map((r) => r.features), predictions: rows.map((r) => r.predicted) },
    { sampleSize: n },
  );
}

/** A UUID v7 of a time (random bits from `random`). */
export function uuidV7(ms: number, random: SeededRandom): string {
  const hex = (k: number) => Array.from({ length: k }, () => random.int(16).toString(16)).join('');
  const t = ms.toString(16).padStart(12, '0');
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${hex(3)}-${'89ab'[random.int(4)]}${hex(3)}-${hex(12)}`;
}

/** One capture line of `examples` examples at `at`. */
export function captureLine(at: Date, sha: string, examples: Array<{ features: Array<number | null>; predicted: string }>, random: SeededRandom, version = 'hearing-who@1'): { line: string; capture: PredictionCapture } {
  const capture: PredictionCapture = {
    captureVersion: CAPTURE_VERSION,
    endpoint: ENDPOINT,
    inferenceId: uuidV7(at.getTime(), random),
    capturedAt: at.toISOString(),
    modelVersion: version,
    modelSha256: sha,
    inputs: { thresholds: examples.map((x) => x.features) },
    outputs: { probabilities: examples.map(() => [0.2, 0.5, 0.3]) },
    predictedClasses: examples.map((x) => x.predicted),
  };
  return { line: JSON.stringify(capture), capture };
}

export const captureKey = (version: string, at: Date, id: string) => MONITORING_KEYS.captureObject(ENDPOINT, version, at, id);
export const groundTruthKey = (written: Date, id: string) => MONITORING_KEYS.groundTruthObject(ENDPOINT, written, id);
export const groundTruthLines = (lines: GroundTruthLine[]) => lines.map((l) => JSON.stringify(l)).join('\n') + '\n';

// ---- an in-memory S3 -----------------------------------------------------------------------

interface StoredObject {
  readonly body: Buffer;
  readonly lastModified: Date;
  readonly input?: Record<string, unknown>;
}

/** The S3 calls of the drift job against a Map; `pageSize` forces pagination. */
export class MemoryS3 {
  public readonly objects = new Map<string, StoredObject>();
  public readonly puts: Array<Record<string, unknown>> = [];
  public getCount = 0;

  constructor(private readonly pageSize = 1000) {}

  public put(key: string, body: string, lastModified = new Date()): void {
    this.objects.set(key, { body: Buffer.from(body), lastModified });
  }

  public text(key: string): string | undefined {
    return this.objects.get(key)?.body.toString('utf8');
  }

  public get api(): S3Api {
    return { send: (command: unknown) => this.send(command) } as unknown as S3Api;
  }

  private async send(command: unknown): Promise<unknown> {
    if (command instanceof ListObjectsV2Command) {
      const { Prefix = '', Delimiter, ContinuationToken } = command.input;
      const keys = [...this.objects.keys()].filter((k) => k.startsWith(Prefix)).sort();
      const entries: Array<{ key: string; folder: boolean }> = [];
      const folders = new Set<string>();
      for (const k of keys) {
        const rest = k.slice(Prefix.length);
        const cut = Delimiter ? rest.indexOf(Delimiter) : -1;
        if (cut >= 0) {
          const folder = Prefix + rest.slice(0, cut + 1);
          if (!folders.has(folder)) {
            folders.add(folder);
            entries.push({ key: folder, folder: true });
          }
        } else {
          entries.push({ key: k, folder: false });
        }
      }
      const start = ContinuationToken ? Number(ContinuationToken) : 0;
      const page = entries.slice(start, start + this.pageSize);
      const truncated = start + this.pageSize < entries.length;
      return {
        Contents: page.filter((x) => !x.folder).map((x) => ({ Key: x.key, LastModified: this.objects.get(x.key)!.lastModified })),
        CommonPrefixes: page.filter((x) => x.folder).map((x) => ({ Prefix: x.key })),
        IsTruncated: truncated,
        NextContinuationToken: truncated ? String(start + this.pageSize) : undefined,
      };
    }
    if (command instanceof GetObjectCommand) {
      this.getCount++;
      const o = this.objects.get(command.input.Key!);
      if (!o) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      return { Body: Readable.from([o.body]) };
    }
    if (command instanceof PutObjectCommand) {
      const input = command.input as unknown as Record<string, unknown>;
      this.puts.push(input);
      this.objects.set(input.Key as string, { body: Buffer.from(String(input.Body)), lastModified: new Date(), input });
      return {};
    }
    throw new Error(`MemoryS3: unexpected command ${(command as object).constructor.name}`);
  }
}

/** An EventBridge client that records PutEvents entries. */
export function recordingEvents(): { api: EventsApi; entries: Array<Record<string, any>> } {
  const entries: Array<Record<string, any>> = [];
  const api = {
    send: async (command: { input: { Entries?: Array<Record<string, unknown>> } }) => {
      entries.push(...(command.input.Entries ?? []));
      return { FailedEntryCount: 0, Entries: (command.input.Entries ?? []).map((_, i) => ({ EventId: `e${entries.length + i}` })) };
    },
  } as unknown as EventsApi;
  return { api, entries };
}
