/**
 * Local AWS for tests: the moto_server launcher of the reference app's local run
 * (examples/local-aws/local-aws.ts), plus a jest helper that starts it for a test file.
 *
 *   const aws = useLocalAws();               // jest: starts in beforeAll, stops in afterAll
 *   test('...', async () => {
 *     await aws().s3().send(new CreateBucketCommand({ Bucket: 'b' }));
 *   });
 *
 * Handler code that builds its clients at module scope is pointed at moto through the
 * environment: `useLocalAws({ setEnv: true })` (or `aws.applyEnv()`) sets it before the handler
 * module is imported. What moto does not do: it evaluates no IAM, bucket or key policy, and does
 * not enforce presigned-POST policy conditions. Prove those another way.
 */
import { LocalAws, startLocalAws, StartLocalAwsOptions } from '../../examples/local-aws/local-aws';

export * from '../../examples/local-aws/local-aws';

export interface UseLocalAwsOptions extends StartLocalAwsOptions {
  /** Also apply `env` to process.env for the whole file (restored in afterAll). Default false. */
  readonly setEnv?: boolean;
  /** Call reset() before each test. Default false. */
  readonly resetBeforeEach?: boolean;
}

/**
 * Jest helper: starts moto in beforeAll, stops it in afterAll, returns an accessor that is valid
 * inside tests and hooks (it throws if called at module scope, before beforeAll ran).
 */
export function useLocalAws(options: UseLocalAwsOptions = {}): () => LocalAws {
  let aws: LocalAws | undefined;
  let restoreEnv: (() => void) | undefined;
  beforeAll(async () => {
    aws = await startLocalAws(options);
    if (options.setEnv) restoreEnv = aws.applyEnv();
  }, (options.startTimeoutMs ?? 60_000) + 10_000);
  if (options.resetBeforeEach) {
    beforeEach(async () => {
      await aws?.reset();
    });
  }
  afterAll(async () => {
    restoreEnv?.();
    await aws?.stop();
    aws = undefined;
  });
  return () => {
    if (!aws) throw new Error('useLocalAws(): local AWS is not running (use the accessor inside a test or hook)');
    return aws;
  };
}
