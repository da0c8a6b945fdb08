/**
 * Reading SageMaker's `model.tar.gz` as a stream: gunzip, then a tar reader (tar-stream), keeping
 * only the model file and the drift baseline. Every decompressed byte counts against a maximum, so
 * a gzip bomb or a model directory full of checkpoints fails early instead of running the
 * function out of time or memory; the model file is kept in memory (the function's memory is
 * sized from the maximum) and hashed as it arrives.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { MAX_BASELINE_BYTES, PUBLISH_MODEL_ERRORS } from './contract';
import { PublishModelError } from './logic/publish';

export interface ModelArchiveOptions {
  /** The model file's name in the archive (a leading `./` of entries is ignored). */
  readonly modelFileName: string;
  /** The baseline's name in the archive. */
  readonly baselineFileName: string;
  /** The most decompressed bytes read (tar headers and every entry). */
  readonly maxBytes: number;
}

export interface ModelArchiveContent {
  /** The model file's bytes and SHA-256 (lower-case hex); undefined when absent. */
  readonly model?: { readonly data: Buffer; readonly sha256: string };
  /** The baseline's bytes; undefined when absent. */
  readonly baseline?: Buffer;
  /** Decompressed bytes read. */
  readonly archiveBytes: number;
}

const FILE_TYPES = new Set(['file', 'contiguous-file']);

/** Read the model file and the baseline out of a gzip-compressed tar stream. */
export async function readModelArchive(body: AsyncIterable<Uint8Array> | Readable, options: ModelArchiveOptions): Promise<ModelArchiveContent> {
  const tooLarge = () => new PublishModelError(PUBLISH_MODEL_ERRORS.archiveTooLarge,
    `the model archive holds more than ${options.maxBytes} bytes (decompressed): raise maxArchiveSize, or keep checkpoints and data out of the model directory`);
  let archiveBytes = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      archiveBytes += chunk.length;
      done(archiveBytes > options.maxBytes ? tooLarge() : null, chunk);
    },
  });
  const extract = tar.extract();
  let model: ModelArchiveContent['model'];
  let baseline: Buffer | undefined;

  const entries = (async () => {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^(\.\/)+/, '');
      const wanted = name === options.modelFileName ? 'model' : name === options.baselineFileName ? 'baseline' : undefined;
      if (!wanted) {
        entry.resume();
        continue;
      }
      if (!FILE_TYPES.has(entry.header.type ?? 'file')) {
        throw new PublishModelError(PUBLISH_MODEL_ERRORS.invalidArchive, `${name} in the model archive is a ${entry.header.type}, not a regular file`);
      }
      if ((wanted === 'model' && model) || (wanted === 'baseline' && baseline)) {
        throw new PublishModelError(PUBLISH_MODEL_ERRORS.invalidArchive, `the model archive holds ${name} more than once`);
      }
      const size = entry.header.size ?? 0;
      if (size > options.maxBytes) throw tooLarge();
      if (wanted === 'baseline' && size > MAX_BASELINE_BYTES) {
        throw new PublishModelError(PUBLISH_MODEL_ERRORS.invalidBaseline, `${name} in the model archive is larger than ${MAX_BASELINE_BYTES} bytes`);
      }
      // One buffer of the size the header states (checked above), filled as the entry arrives.
      const data = Buffer.allocUnsafe(size);
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        if (bytes + chunk.length > size) throw new PublishModelError(PUBLISH_MODEL_ERRORS.invalidArchive, `${name} in the model archive is longer than its header states`);
        chunk.copy(data, bytes);
        bytes += chunk.length;
        if (wanted === 'model') hash.update(chunk);
      }
      if (bytes !== size) throw new PublishModelError(PUBLISH_MODEL_ERRORS.invalidArchive, `${name} in the model archive is shorter than its header states`);
      if (wanted === 'model') model = { data, sha256: hash.digest('hex') };
      else baseline = data;
    }
  })();

  const source = body instanceof Readable ? body : Readable.from(body);
  const piped = pipeline(source, createGunzip(), limit, extract as unknown as NodeJS.WritableStream);
  const failure = (e: unknown) => {
    source.destroy();
    extract.destroy(e instanceof Error ? e : undefined);
  };
  entries.catch(failure);
  piped.catch(failure);
  try {
    await Promise.all([piped, entries]);
  } catch (e) {
    await Promise.allSettled([piped, entries]);
    throw firstError(e, await entries.then(() => undefined, (x) => x));
  }
  return { model, baseline, archiveBytes };
}

/** Our own error when there is one (an entry's check, the size limit), else a corrupt archive. */
function firstError(e: unknown, fromEntries: unknown): Error {
  for (const x of [e, fromEntries]) if (x instanceof PublishModelError) return x;
  return new PublishModelError(PUBLISH_MODEL_ERRORS.invalidArchive,
    `the model archive is not a gzip-compressed tar archive (${describe(e)}): SageMaker writes model.tar.gz from the model directory`);
}

function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') return (e as { code: string }).code;
  return e instanceof Error ? e.message.slice(0, 120) : 'unreadable';
}
