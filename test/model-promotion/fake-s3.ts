/**
 * An in-memory S3 for the state machine tests: GetObject and PutObject (with If-None-Match and
 * If-Match, which real S3 makes atomic) on one versioned bucket, through `send(command)` like an
 * S3Client.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export interface StoredObject {
  readonly body: Buffer;
  readonly versionId: string;
}

export class FakeS3 {
  public readonly objects = new Map<string, StoredObject>();
  private versions = 0;

  public put(key: string, body: string | Buffer): void {
    this.objects.set(key, { body: Buffer.from(body), versionId: `v${++this.versions}` });
  }

  public text(key: string): string | undefined {
    return this.objects.get(key)?.body.toString('utf8');
  }

  public client(): S3Client {
    return { send: (command: unknown) => this.send(command) } as unknown as S3Client;
  }

  private async send(command: unknown): Promise<unknown> {
    if (command instanceof GetObjectCommand) {
      const o = this.objects.get(command.input.Key!);
      if (!o) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      const bytes = o.body;
      return {
        VersionId: o.versionId,
        ETag: `"${o.versionId}"`,
        Body: {
          transformToString: async () => bytes.toString('utf8'),
          async *[Symbol.asyncIterator]() {
            for (let i = 0; i < bytes.length; i += 1000) yield bytes.subarray(i, i + 1000);
          },
        },
      };
    }
    if (command instanceof PutObjectCommand) {
      const key = command.input.Key!;
      const ifMatch = command.input.IfMatch;
      if ((command.input.IfNoneMatch === '*' && this.objects.has(key)) || (ifMatch !== undefined && ifMatch !== `"${this.objects.get(key)?.versionId}"`)) {
        throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      }
      this.put(key, command.input.Body as string);
      return { VersionId: this.objects.get(key)!.versionId };
    }
    throw new Error(`FakeS3: unsupported command ${(command as object).constructor.name}`);
  }
}
