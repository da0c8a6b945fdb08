/**
 * Properties of the model-archive reader (runtime/model-archive.ts) over generated archives, in
 * memory: it returns exactly the model file's and the baseline's bytes (and the model's SHA-256)
 * whatever else the model directory holds and in whatever order, and it refuses an archive
 * exactly when its decompressed size is beyond the maximum; chunking of the compressed stream
 * changes nothing.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import * as fc from 'fast-check';
import * as tar from 'tar-stream';
import { readModelArchive } from '../../src/gpu-training-job/runtime/model-archive';

const OPTIONS = { modelFileName: 'model.onnx', baselineFileName: 'baseline.json' };

/** The uncompressed tar of the entries (name → bytes), as tar-stream packs it. */
async function tarOf(entries: Array<[string, Uint8Array]>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => { for await (const c of pack) chunks.push(c as Buffer); })();
  for (const [name, content] of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ name, size: content.length }, Buffer.from(content), (e) => (e ? reject(e) : resolve()));
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** The bytes in chunks of the given sizes (cycled). */
async function* chunked(data: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length];
    yield data.subarray(at, at + n);
    at += n;
  }
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const otherName = fc.constantFrom('model.json', 'code/train.py', 'model.onnx.bak', 'sub/model.onnx', 'baseline.json.tmp', 'checkpoint.pt');

test('finds the model file and the baseline among other files, in any order and chunking, or refuses an archive beyond the maximum', async () => {
  await fc.assert(fc.asyncProperty(
    fc.record({
      model: fc.option(bytes(3000), { nil: undefined }),
      modelName: fc.constantFrom('model.onnx', './model.onnx'),
      baseline: fc.option(bytes(700), { nil: undefined }),
      others: fc.uniqueArray(fc.tuple(otherName, bytes(2000)), { selector: ([name]) => name, maxLength: 4 }),
      order: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
      chunks: fc.array(fc.integer({ min: 1, max: 4096 }), { minLength: 1, maxLength: 5 }),
      // The maximum around the archive's decompressed size, its boundary included.
      slack: fc.oneof(fc.constantFrom(-1, 0, 1), fc.integer({ min: -4000, max: 4000 })),
    }),
    async (c) => {
      const entries: Array<[string, Uint8Array]> = [...c.others];
      if (c.model) entries.push([c.modelName, c.model]);
      if (c.baseline) entries.push(['baseline.json', c.baseline]);
      const shuffled = entries.map((e, i) => ({ e, k: c.order[i % c.order.length] * 31 + i })).sort((a, b) => a.k - b.k).map((x) => x.e);
      const plain = await tarOf(shuffled);
      const maxBytes = Math.max(512, plain.length + c.slack);
      const read = readModelArchive(chunked(gzipSync(plain), c.chunks), { ...OPTIONS, maxBytes });
      if (plain.length > maxBytes) {
        await expect(read).rejects.toMatchObject({ name: 'ModelArchiveTooLarge' });
        return;
      }
      const got = await read;
      expect(got.archiveBytes).toBe(plain.length);
      expect(got.model && Buffer.from(got.model.data).equals(Buffer.from(c.model!))).toBe(c.model === undefined ? undefined : true);
      if (c.model) expect(got.model!.sha256).toBe(createHash('sha256').update(c.model).digest('hex'));
      const sameBaseline = got.baseline === undefined ? undefined : Buffer.from(got.baseline).equals(Buffer.from(c.baseline!));
      expect(sameBaseline).toBe(c.baseline === undefined ? undefined : true);
    },
  ), { numRuns: 60 });
});

test('a gzip stream that is not a tar archive, or a tar that stops in an entry, is InvalidModelArchive', async () => {
  const notTar = gzipSync(Buffer.from('x'.repeat(2000)));
  await expect(readModelArchive(chunked(notTar, [100]), { ...OPTIONS, maxBytes: 1024 * 1024 })).rejects.toMatchObject({ name: 'InvalidModelArchive' });
  const plain = await tarOf([['model.onnx', new Uint8Array(3000).fill(7)]]);
  const cut = gzipSync(plain.subarray(0, 1500));
  await expect(readModelArchive(chunked(cut, [700]), { ...OPTIONS, maxBytes: 1024 * 1024 })).rejects.toMatchObject({ name: 'InvalidModelArchive' });
});
