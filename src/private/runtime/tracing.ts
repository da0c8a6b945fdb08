/**
 * X-Ray tracing of the handlers' AWS SDK clients with Powertools for AWS Lambda
 * (`@aws-lambda-powertools/tracer`). The functions run with active tracing (handlerDefaults); each
 * traced client adds a subsegment per call to the invocation's trace.
 *
 * Outside Lambda (tests, local runs), or with `POWERTOOLS_TRACE_ENABLED=false`, the Tracer is
 * disabled and clients are returned as they are.
 *
 * Loading this module loads the X-Ray SDK: tens of milliseconds of cold start, and async hooks that
 * add about a microsecond to every await of the process. The model endpoint's hot path does not
 * load it (see predict.handler.ts).
 */
import { Tracer } from '@aws-lambda-powertools/tracer';

let tracer: Tracer | undefined;

/**
 * The execution environment's Tracer (created on first use; the service name is
 * `POWERTOOLS_SERVICE_NAME` when set). HTTP(S) requests are not patched globally: the SDK clients
 * are traced one by one, and the Lambda runtime's own requests (its init-error report) stay
 * outside the X-Ray SDK.
 */
export function handlerTracer(): Tracer {
  tracer ??= new Tracer({ captureHTTPsRequests: false });
  return tracer;
}

/** `client`, traced: each command it sends is an X-Ray subsegment of the invocation. */
export function traced<T>(client: T): T {
  return handlerTracer().captureAWSv3Client(client);
}
