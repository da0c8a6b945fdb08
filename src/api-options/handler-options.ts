import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * Where and how much a construct's request handler (a Lambda function) runs. Shared by every
 * construct of the library that serves an API route.
 */
export interface HandlerOptions {
  /**
   * Reserved concurrency of the handler.
   *
   * @default - no reservation; the stage throttling and the WAF rate rule bound the request rate
   */
  readonly reservedConcurrency?: number;

  /**
   * A VPC to run the handler in. Handlers that read S3 then need an S3 gateway endpoint or NAT.
   *
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of `vpc` for the handler.
   *
   * @default - private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The Node.js runtime of the construct's Lambda functions (Node.js 22 or newer; the handlers are
   * built for it and tested on Node.js 22 and 24).
   *
   * @default - the newest Node.js runtime that the installed aws-cdk-lib knows, at least `nodejs24.x`
   */
  readonly runtime?: lambda.Runtime;
}
