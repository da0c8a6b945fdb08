/**
 * The drift job's S3 reads: listing one prefix (paginated), listing the folders below a prefix,
 * and streaming an object's lines (an object is never held whole in memory). Clients are
 * injected; errors propagate (a run that cannot read its input fails and is retried).
 */
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

/** The S3 calls the job makes. */
export type S3Api = Pick<S3Client, 'send'>;

/** One listed object. */
export interface ListedObject {
  readonly key: string;
  readonly lastModifiedMs: number;
}

/** Every object under `prefix` (no delimiter: nested folders included). */
export async function listObjects(s3: S3Api, bucket: string, prefix: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (o.Key !== undefined && !o.Key.endsWith('/')) out.push({ key: o.Key, lastModifiedMs: o.LastModified?.getTime() ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** The folders directly below `prefix` (`<prefix><name>/`). */
export async function listFolders(s3: S3Api, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix !== undefined) out.push(p.Prefix);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** The non-blank lines of an object, streamed (`\n` or `\r\n`; UTF-8 split across chunks is reassembled). */
export async function* objectLines(s3: S3Api, bucket: string, key: string): AsyncGenerator<string> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = res.Body as unknown;
  const input = body instanceof Readable
    ? body
    : Readable.from([await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()]);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for await (const chunk of input) {
      const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const line = text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl);
        start = nl + 1;
        if (line.trim().length > 0) yield line;
      }
      rest = text.slice(start);
    }
    rest += decoder.end();
    if (rest.endsWith('\r')) rest = rest.slice(0, -1);
    if (rest.trim().length > 0) yield rest;
  } finally {
    input.destroy();
  }
}

/** Run `fn` over `items` with at most `limit` in flight; the first error is thrown once all settled. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      if (failure) return;
      try {
        await fn(items[i]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
