import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SecureDataLake, SecureUploadApi } from '../../src';

process.env.CDK_VALIDATION = 'false';

function uploadRuntime(runtime?: lambda.Runtime): string {
  const stack = new Stack(new App(), 'Test');
  new SecureUploadApi(stack, 'Uploads', { lake: new SecureDataLake(stack, 'Lake'), runtime });
  const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  return [...new Set(Object.values(fns).map((f: any) => f.Properties.Runtime))].join(',');
}

describe('the runtime of the library\'s functions', () => {
  test('defaults to the newest Node.js runtime the installed aws-cdk-lib knows', () => {
    const known = Object.values(lambda.Runtime)
      .filter((r): r is lambda.Runtime => r instanceof lambda.Runtime && r.family === lambda.RuntimeFamily.NODEJS && !r.isVariable)
      .map((r) => Number(/^nodejs(\d+)\.x$/.exec(r.name)?.[1] ?? 0));
    expect(uploadRuntime()).toBe(`nodejs${Math.max(24, ...known)}.x`);
  });

  test('follows aws-cdk-lib when it learns a newer Node.js runtime', () => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const isolated = require('aws-cdk-lib/aws-lambda') as typeof lambda;
      Object.defineProperty(isolated.Runtime, 'NODEJS_98_X', { value: new isolated.Runtime('nodejs98.x', isolated.RuntimeFamily.NODEJS), configurable: true, enumerable: true });
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { handlerRuntime } = require('../../src/private/function-code');
        expect(handlerRuntime(new Stack(new App(), 'S')).name).toBe('nodejs98.x');
      } finally {
        delete (isolated.Runtime as any).NODEJS_98_X;
      }
    });
  });

  test('the user\'s choice wins', () => {
    expect(uploadRuntime(lambda.Runtime.NODEJS_22_X)).toBe('nodejs22.x');
  });

  test.each([['a Python runtime', lambda.Runtime.PYTHON_3_12], ['Node.js 20', lambda.Runtime.NODEJS_20_X]])('fails if the runtime is %s', (_name, runtime) => {
    expect(() => uploadRuntime(runtime)).toThrow(new RegExp(`Test/Uploads: invalid runtime: ${runtime.name.replace('.', '\\.')}; expected a Node\\.js runtime, nodejs22\\.x or newer`));
  });
});
