import { ISecureDataLake } from '../secure-data-lake/secure-data-lake';

/**
 * Prediction capture of a `ServerlessModelEndpoint`: a sample of its predictions, delivered to the
 * lake's models zone as JSON Lines for drift monitoring and ground-truth joins.
 *
 * For each sampled request the handler writes one line to its log stream (no network call on the
 * request path): the endpoint's capture name, the inference id (also returned to the caller as
 * `inferenceId` and `X-Inference-Id`), the time, the model version and SHA-256, the validated
 * inputs, the outputs and the predicted classes. A capture line carries no request id, no caller
 * identity and no header. A subscription filter hands the capture lines to a capture writer
 * function, which writes them to
 * `monitoring/captures/endpoint=<captureName>/model=<version>/date=<YYYY-MM-DD>/hour=<HH>/<id>.jsonl`
 * in the models zone, SSE-KMS with the lake's key (the lake expires them after its
 * `predictionCaptureExpiration`).
 *
 * The captured inputs are health data, and they also stay in the endpoint function's log group
 * for that log group's retention (`logRetention`), encrypted with the construct's logs key: grant
 * reading that log group as you would grant reading the captures.
 *
 * The capture writer runs in the endpoint's `vpc`, when it has one. A lake that accepts its
 * zones' requests only through VPC endpoints (`allowedVpcEndpoints`) refuses the writer's puts
 * unless the endpoint has a `vpc` whose S3 endpoint is one of them.
 *
 * A capture that is too large (see `maxCaptureBytes`) or that fails to build is dropped and counted
 * (`metricCapturesDropped()`); it never fails the prediction. A lake write that fails is retried
 * by Lambda twice, then the batch goes to an encrypted dead-letter queue with an alarm
 * (`metricCaptureDeliveryFailures()`).
 */
export interface PredictionCaptureOptions {
  /** The lake whose models zone receives the captures. */
  readonly lake: ISecureDataLake;

  /**
   * Share of the answered (200) requests that are captured, in percent: above 0, at most 100.
   *
   * Every prediction by default: drift windows need enough rows, and a clinical endpoint's traffic
   * is rarely so high that a stdout line per request matters (the benchmark shows its cost). Lower
   * it for high-traffic endpoints.
   *
   * @default 100
   */
  readonly samplingPercentage?: number;

  /**
   * The endpoint's name in its captures (`endpoint` of each line and the `endpoint=` partition):
   * 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit. Give a stable name
   * when the construct may move in the tree: a new name starts a new partition.
   *
   * @default - derived from the construct's path (its parts joined with `-`, other characters
   * replaced by `-`; a hash keeps a long path unique within 64 characters)
   */
  readonly captureName?: string;

  /**
   * The largest capture line in bytes (UTF-8). A larger capture is not written and is counted in
   * `CapturesDropped` (reason `TOO_LARGE`): CloudWatch Logs refuses log events over 256 KiB. From
   * 1024 to 262118.
   *
   * @default 200000
   */
  readonly maxCaptureBytes?: number;
}
