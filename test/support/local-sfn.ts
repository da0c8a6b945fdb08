/**
 * aws-local-stepfunctions (a local Amazon States Language interpreter) for the state machine
 * tests: the loader of the reference app's local run (examples/local-aws/local-sfn.ts), and a
 * runner that replaces every Task state with a local handler and records what happened.
 *
 *   const machine = new localSfn.StateMachine(definition, { validationOptions: { checkArn: false } });
 *   const r = await startLocalExecution(machine, input, { taskNames, handlerOf: (t) => handlers[t] }).done;
 *   expect(r.calls.Train).toHaveLength(1);
 */
import { localSfn, LocalSfn } from '../../examples/local-aws/local-sfn';

export { localSfn };
export type { LocalSfn };

/** A local stand-in for a Task state: gets the state's effective input (after Parameters). */
export type TaskHandler = (input: any) => unknown;

/** An event of an execution's event log (the package does not export its type). */
export type ExecutionEvent = ReturnType<LocalSfn.StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** How an execution ended, with what each Task state was called with and the event log. */
export interface LocalExecution {
  /** The execution's output, when it succeeded. */
  readonly output?: any;
  /** The execution's error, when it failed. */
  readonly error?: LocalSfn.ExecutionError;
  /** Effective input (after Parameters) of every call of every Task state, by state name. */
  readonly calls: Record<string, any[]>;
  readonly events: ExecutionEvent[];
}

/** A started execution: its calls and events so far, and its end. */
export interface StartedLocalExecution {
  readonly calls: Record<string, any[]>;
  readonly events: ExecutionEvent[];
  readonly done: Promise<LocalExecution>;
}

export interface LocalExecutionOptions {
  /** The Task states to replace (nested ones included). */
  readonly taskNames: readonly string[];
  /** The handler of a Task state, looked up at each call; none is an error of the call. */
  readonly handlerOf: (taskName: string) => TaskHandler | undefined;
  /** The context object (`$$`). */
  readonly context?: Record<string, unknown>;
}

/** An error as a service integration reports it: Retry and Catch match on `name`. */
export function awsError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/**
 * Start an execution with every Task state of `taskNames` replaced by its local handler and every
 * Retry interval set to 0. `done` resolves with the output, or with the error when the execution
 * fails (`ExecutionError`); any other error rejects it.
 */
export function startLocalExecution(machine: LocalSfn.StateMachine, input: unknown, options: LocalExecutionOptions): StartedLocalExecution {
  const calls: Record<string, any[]> = Object.fromEntries(options.taskNames.map((t) => [t, []]));
  const taskResourceLocalHandlers = Object.fromEntries(options.taskNames.map((t) => [t, async (i: any) => {
    calls[t].push(i);
    const handler = options.handlerOf(t);
    if (!handler) throw new Error(`no local handler for the Task state ${t}`);
    return (await handler(i)) as any;
  }]));
  const execution = machine.run(input as any, {
    overrides: {
      taskResourceLocalHandlers,
      retryIntervalOverrides: Object.fromEntries(options.taskNames.map((t) => [t, 0])),
    },
    ...(options.context ? { context: options.context } : {}),
  });
  const events: ExecutionEvent[] = [];
  const collect = (async () => { for await (const e of execution.eventLogs) events.push(e); })();
  const done = (async (): Promise<LocalExecution> => {
    try {
      const output = await execution.result;
      await collect;
      return { output, calls, events };
    } catch (e) {
      await collect.catch(() => undefined);
      if (e instanceof localSfn.ExecutionError) return { error: e, calls, events };
      throw e;
    }
  })();
  return { calls, events, done };
}
