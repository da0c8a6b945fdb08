/**
 * aws-local-stepfunctions (a local Amazon States Language interpreter; Node 22) for CommonJS code:
 * the package is `"type": "module"` with a CommonJS build for `require`, so its types are ES module
 * types. This module imports the types with `resolution-mode: import` and loads the CommonJS build.
 *
 *   import { localSfn } from '../local-aws/local-sfn';
 *   const machine = new localSfn.StateMachine(definition, { validationOptions: { checkArn: false } });
 */
import type * as LocalSfn from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const localSfn: typeof LocalSfn = require('aws-local-stepfunctions');

export type { LocalSfn };
