import * as lambda from 'aws-cdk-lib/aws-lambda';
import { HandlerOptions } from '../api-options/handler-options';

/**
 * The settings every handler function of the library shares: arm64, X-Ray active tracing, JSON
 * logs (application INFO, system WARN), and the user's concurrency and VPC options.
 *
 * @internal
 */
export function handlerDefaults(options: HandlerOptions): Partial<lambda.FunctionProps> {
  return {
    architecture: lambda.Architecture.ARM_64,
    tracing: lambda.Tracing.ACTIVE,
    loggingFormat: lambda.LoggingFormat.JSON,
    applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
    systemLogLevelV2: lambda.SystemLogLevel.WARN,
    reservedConcurrentExecutions: options.reservedConcurrency,
    vpc: options.vpc,
    vpcSubnets: options.vpcSubnets,
  };
}
