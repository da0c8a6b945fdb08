/**
 * aws-local-stepfunctions (a local Amazon States Language interpreter) for the state machine
 * tests: the loader of the reference app's local run (examples/local-aws/local-sfn.ts).
 */
export { localSfn } from '../../examples/local-aws/local-sfn';
export type { LocalSfn } from '../../examples/local-aws/local-sfn';
