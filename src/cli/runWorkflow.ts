import { randomUUID } from 'node:crypto';
import path, { resolve } from 'node:path';
import type { PatternStorage } from '../runtime/PatternStorage.js';
import pc from 'picocolors';
import { allGroupsGone, defaultKillGraceMs, terminateAllGroups } from '../actors/processGroup.js';
import type { FileRunStore } from '../store/FileRunStore.js';
import { openRunStore } from './runStore.js';
import type { RunEvent } from '../core/events.js';
import { isPatternValidationError, isInvalidPatternError, isPatternError } from '../core/errors.js';
import type { PatternContextInput } from '../runtime/PatternContext.js';
import type { RunResult } from '../core/result.js';
import type { Agent, ResourceArbiter } from '../core/agent.js';
import { ExitCode, UsageError } from './exit.js';
import { onStopSignals, signalExitCode } from './signals.js';
import { connectRemoteResolver, discoverRemoteAgents } from './remoteAgents.js';
import type { DiscoveredRemoteAgents, RemoteResolver } from './remoteAgents.js';
import type { NatsAuthCliOptions } from './commands/remote/natsCliOptions.js';
import { mergeRunInput, parseDurationOption, parseInputOption } from './input.js';
import { planTree } from './output/planTree.js';
import type { PlanNode } from './output/planTree.js';
import { renderPlan } from './output/plan.js';
import { createProgress } from './output/progress.js';
import type { ProgressMode, ProgressReporter } from './output/progress.js';
import { renderSummary } from './output/summary.js';
import { checkOutputFile, renderOutputs, writeOutputs } from './output/outputs.js';
import { createTraceWriter } from './output/trace.js';
import { startRunTracing, type RunTracing } from './runTracing.js';
import type { TraceWriter } from './output/trace.js';
import type { createWorkflowExecutor } from './workflow/build.js';
import { loadWorkflow } from './workflow/load.js';
import type { LoadedWorkflow } from './workflow/load.js';
import { loadMode, reportLoadError } from './commands/validate.js';
import { redactText } from '../core/redact.js';
import type { InspectorServer } from '../inspector/InspectorServer.js';
import { inspectorPort, serveUntilStopped, startInspector } from './inspectorSession.js';

/**
 * `ndf run` without the command line: load, check, run with progress and trace, summarise.
 */

/** Options of `ndf run` (the NATS credentials are used with `nats`). */
export interface RunOptions extends NatsAuthCliOptions {
  input?: string;
  trace?: string;
  traceLevel?: string;
  otlp?: string;
  json?: boolean;
  dryRun?: boolean;
  deep?: boolean;
  timeout?: string;
  progress?: boolean;
  nats?: string;
  output?: string;
  resolver?: string;
  /** The run store's directory; `false` (`--no-store`): runs live in memory only. */
  store?: string | false;
  runId?: string;
  allowChangedPattern?: boolean;
  /** `--inspect [port]`: true without a port. */
  inspect?: string | boolean;
}

/** What to do with the workflow once loaded: run it, or act on a journaled run of it. */
export type RunAction =
  | { readonly kind: 'run' }
  | { readonly kind: 'resume'; readonly runId: string }
  | { readonly kind: 'cancel'; readonly runId: string; readonly reason?: string | undefined }
  | {
      readonly kind: 'fork';
      readonly runId: string;
      readonly fromStep: string;
      readonly newRunId?: string | undefined;
    }
  | {
      readonly kind: 'signal';
      readonly runId: string;
      readonly name: string;
      readonly payload: unknown;
      readonly resume: boolean;
    };

/** What a run needs once the file and options are checked. */
interface PreparedRun {
  loaded: LoadedWorkflow;
  input: unknown;
  timeoutMs: number | undefined;
}

/** Loads the workflow and checks the options; an exit code when they are bad input. */
async function prepare(
  file: string,
  options: RunOptions,
  extraAgents: readonly Agent[],
): Promise<PreparedRun | ExitCode> {
  try {
    const loaded = await loadWorkflow(file, {
      extraAgents,
      ...(options.dryRun ? loadMode(options.deep === true) : {}),
    });
    const option = options.input === undefined ? undefined : parseInputOption(options.input);
    const timeoutMs =
      options.timeout === undefined ? loaded.workflow.run.timeoutMs : parseTimeout(options.timeout);
    return { loaded, input: mergeRunInput(loaded.workflow.run.input, option), timeoutMs };
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    return reportLoadError(error);
  }
}

/**
 * Loads, runs and reports one workflow file (with the agents discovered over NATS when
 * `options.nats` is given); resolves with the exit code: an {@link ExitCode}, or
 * 128 + the signal's number when SIGINT, SIGTERM or SIGHUP cancelled the run.
 */
export async function runWorkflowFile(
  file: string,
  options: RunOptions,
  action: RunAction = { kind: 'run' },
): Promise<number> {
  if (options.deep && !options.dryRun)
    return usage('--deep applies to --dry-run only (a run loads every agent)');
  if (options.resolver !== undefined && options.nats === undefined)
    return usage('--resolver needs --nats <url>: the resolver is reached over NATS');
  if (options.inspect !== undefined && options.dryRun)
    return usage('--inspect applies to a run, not to --dry-run (draw the plan with ndf diagram)');
  let inspectPort: number | undefined;
  try {
    inspectPort =
      options.inspect === undefined ? undefined : await inspectorPort(options.inspect, '--inspect');
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    throw error;
  }
  let remote: DiscoveredRemoteAgents | undefined;
  let resolver: RemoteResolver | undefined;
  try {
    remote = options.nats === undefined ? undefined : await discoverRemoteAgents(options.nats, options);
    if (remote && options.resolver !== undefined)
      resolver = await connectRemoteResolver(remote.transport, options.resolver, options.nats ?? '');
  } catch (error) {
    await remote?.close();
    if (error instanceof UsageError) return usage(error.message);
    throw error;
  }
  try {
    return await runWith(file, options, remote?.agents ?? [], resolver?.arbiter, action, inspectPort);
  } finally {
    await resolver?.close();
    await remote?.close();
  }
}

async function runWith(
  file: string,
  options: RunOptions,
  extraAgents: readonly Agent[],
  resolver: ResourceArbiter | undefined,
  action: RunAction,
  inspectPort: number | undefined,
): Promise<number> {
  const prepared = await prepare(file, options, extraAgents);
  if (typeof prepared === 'number') return prepared;
  const { loaded, input, timeoutMs } = prepared;
  const { workflow, agents } = loaded;
  const plan = planTree(workflow, workflow.run.pattern ?? '(best pattern)', [], extraAgents);
  if (options.dryRun) {
    process.stdout.write(`${renderPlan(loaded, plan, input)}\n`);
    await Promise.all(agents.map(async (agent) => agent.close?.()));
    return ExitCode.OK;
  }
  const mode: ProgressMode = options.json
    ? 'json'
    : options.progress === false
      ? 'none'
      : process.stdout.isTTY
        ? 'tree'
        : 'lines';
  // Filled in once the executor exists; events only flow during the run.
  const sinks: {
    trace?: TraceWriter | undefined;
    progress?: ProgressReporter;
    tracer?: RunTracing['tracer'];
  } = {};
  const onEvent = (event: RunEvent): void => {
    // the tracer closes the run's spans first (it ignores the second run.finished the run hands
    // it), so their records precede run.finished, which stays the trace file's last line
    if (event.type === 'run.finished') sinks.tracer?.onEvent(event);
    sinks.trace?.write(event);
    sinks.progress?.onEvent(event);
  };
  let executor: WorkflowExecutor;
  let store: FileRunStore | undefined;
  let learning: PatternStorage | undefined;
  let inspector: InspectorServer | undefined;
  let tracing: RunTracing;
  try {
    if (options.store === false && action.kind !== 'run')
      throw new UsageError(`${action.kind} needs the run store: drop --no-store`);
    if (options.store === false && options.runId !== undefined)
      throw new UsageError('--run-id needs the run store: drop --no-store');
    store = options.store === false ? undefined : await openRunStore(options.store);
    // Loaded here so that `validate` and `--dry-run` do not pay for the runtime.
    const { createWorkflowExecutor } = await import('./workflow/build.js');
    executor = createWorkflowExecutor(workflow, agents, { onEvent, resolver, store });
    // agents are chosen on what earlier runs in this store learned (ndf stats shows it)
    if (store) {
      const { PatternStorage } = await import('../runtime/PatternStorage.js');
      learning = new PatternStorage({ storagePath: path.join(store.dir, 'patterns') });
    }
    await learning?.loadAgentLearning(executor);
    if (options.output !== undefined) checkOutputFile(options.output);
    sinks.trace = options.trace === undefined ? undefined : createTraceWriter(options.trace);
    if (inspectPort !== undefined) {
      const { workflowPatternSpecs } = await import('./commands/diagramPatterns.js');
      const specs = workflowPatternSpecs(workflow);
      inspector = await startInspector(inspectPort, (name) => specs.get(name), executor, process.stderr);
    }
    tracing = await startRunTracing({
      trace: sinks.trace,
      traceLevel: options.traceLevel,
      otlp: options.otlp,
    });
    sinks.tracer = tracing.tracer;
  } catch (error) {
    await store?.close();
    if (error instanceof UsageError) return usage(error.message);
    if (isPatternError(error)) return usage(`${file}: ${error.message}`);
    throw error;
  }
  const runId = action.kind === 'run' ? (options.runId ?? randomUUID()) : action.runId;
  announce(mode, action, runId, store);
  const planFor = (pattern: string): PlanNode => planTree(workflow, pattern, [], extraAgents);
  const progress = createProgress(
    mode,
    plan,
    process.stdout,
    workflow.run.pattern === undefined ? planFor : undefined,
  );
  sinks.progress = progress;
  const { trace } = sinks;
  const abort = new AbortController();
  // SIGINT, SIGTERM, SIGHUP. With the store: the run is suspended (its journal kept, running
  // commands killed) to be resumed or cancelled later. Without: no step starts any more, running
  // attempts are aborted, completed steps are compensated as on a failure. Exit 128+signal.
  const cancel = onStopSignals(
    store
      ? `suspending run ${runId} (resume: npx ndf resume ${runId}; cancel: npx ndf cancel ${runId})`
      : 'cancelling the run (completed steps are compensated)',
    (signal) => {
      if (!store) return abort.abort(new Error(`interrupted (${signal})`));
      void executor.suspendRun(runId).catch(() => undefined);
      terminateAllGroups(defaultKillGraceMs());
    },
  );
  try {
    const result = await execute(executor, workflow.run, action, {
      input,
      timeoutMs,
      signal: abort.signal,
      trace: trace !== undefined,
      runId,
      file,
      allowChangedPattern: options.allowChangedPattern === true,
      tracer: tracing.tracer,
    });
    if (result === undefined) {
      progress.finish();
      return ExitCode.OK;
    }
    // The run reports only once none of its commands is left (cancelled ones get their grace period).
    await allGroupsGone();
    progress.finish();
    await learning?.saveAgentLearning(executor).catch((error: unknown) => {
      process.stderr.write(
        `${pc.yellow('!')} could not save what the run learned: ${(error as Error).message}\n`,
      );
    });
    const written = await saveOutputs(options.output, result);
    if (mode === 'json') {
      process.stdout.write(`${redactText(JSON.stringify({ type: 'run.result', result }))}\n`);
    } else {
      const outputs = renderOutputs(result, written);
      process.stdout.write(`\n${[renderSummary(result), ...outputs].join('\n')}\n`);
    }
    if (cancel.received) return signalExitCode(cancel.received);
    if (inspector) {
      cancel.dispose(); // a signal now stops the inspector, not the (finished) run
      await serveUntilStopped(inspector, `run ${result.status}; still serving`, process.stderr, result);
    }
    if (action.kind === 'cancel') return result.status === 'cancelled' ? ExitCode.OK : ExitCode.RUN_FAILED;
    return result.success ? ExitCode.OK : ExitCode.RUN_FAILED;
  } catch (error) {
    await allGroupsGone();
    progress.finish();
    if (cancel.received && store) {
      process.stderr.write(
        `${pc.yellow('!')} run ${runId} suspended: resume it with \`npx ndf resume ${runId}\`, or cancel it with \`npx ndf cancel ${runId}\`\n`,
      );
      return signalExitCode(cancel.received);
    }
    if (error instanceof UsageError) return usage(`${file}: ${error.message}`);
    if (isPatternValidationError(error) || isInvalidPatternError(error))
      return usage(`${file}: ${error.message}`);
    process.stderr.write(
      `${pc.red('✖')} run failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return cancel.received ? signalExitCode(cancel.received) : ExitCode.RUN_FAILED;
  } finally {
    cancel.dispose();
    await inspector?.close();
    await tracing.close();
    await closeTrace(trace);
    await executor.close();
    await store?.close();
  }
}

/** Prints the run id (the first `--json` line), and where the run is journaled. */
function announce(
  mode: ProgressMode,
  action: RunAction,
  runId: string,
  store: FileRunStore | undefined,
): void {
  if (mode === 'json') {
    process.stdout.write(`${JSON.stringify({ type: 'run.id', runId, store: store?.dir ?? null })}\n`);
    return;
  }
  const verb = action.kind === 'run' ? 'run' : action.kind;
  const where = store ? pc.dim(` (journal: ${store.dir})`) : pc.dim(' (not journaled: --no-store)');
  process.stdout.write(`${pc.bold(verb)} ${runId}${where}\n`);
}

type WorkflowExecutor = ReturnType<typeof createWorkflowExecutor>;
interface ExecuteOptions {
  input: unknown;
  timeoutMs: number | undefined;
  signal: AbortSignal;
  trace: boolean;
  runId: string;
  file: string;
  allowChangedPattern: boolean;
  tracer: RunTracing['tracer'];
}

/**
 * Carries out `action`: runs the named pattern (with no pattern, the one the executor selects for
 * the context), or resumes, cancels, forks or signals a journaled run. Undefined when a signal was
 * only handed over (the run goes on elsewhere, or later).
 */
async function execute(
  executor: WorkflowExecutor,
  run: { pattern?: string | undefined; context?: PatternContextInput | undefined },
  action: RunAction,
  options: ExecuteOptions,
): Promise<RunResult | undefined> {
  const allow = { allowChangedPattern: options.allowChangedPattern };
  switch (action.kind) {
    case 'resume':
      return executor.resume(action.runId, allow);
    case 'cancel':
      return executor.cancelRun(action.runId, action.reason);
    case 'fork':
      return executor.forkRun(action.runId, {
        fromStep: action.fromStep,
        ...(action.newRunId === undefined ? {} : { runId: action.newRunId }),
      });
    case 'signal': {
      const delivered = await executor.signal(action.runId, action.name, action.payload);
      process.stderr.write(`${pc.green('✔')} signal ${action.name} ${delivered} for run ${action.runId}\n`);
      return delivered === 'journaled' && action.resume ? executor.resume(action.runId, allow) : undefined;
    }
    case 'run':
      break;
  }
  const context = run.context ?? {};
  const pattern = run.pattern ?? executor.selectPattern(context)?.name;
  if (pattern === undefined) {
    throw new UsageError(
      `run: no pattern named, and no registered pattern matches the context ${JSON.stringify(context)}; name one in run.pattern`,
    );
  }
  return executor.run(pattern, context, {
    input: options.input,
    signal: options.signal,
    traceTransitions: options.trace,
    runId: options.runId,
    source: resolve(options.file),
    allowChangedPattern: options.allowChangedPattern,
    ...(options.tracer ? { tracer: options.tracer } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

/** Writes `--output` when given; resolves with the file written, undefined when none or on error (reported). */
async function saveOutputs(file: string | undefined, result: RunResult): Promise<string | undefined> {
  if (file === undefined) return undefined;
  try {
    await writeOutputs(file, result);
    return file;
  } catch (error) {
    process.stderr.write(`${pc.yellow('!')} --output: cannot write ${file}: ${(error as Error).message}\n`);
    return undefined;
  }
}

function parseTimeout(raw: string): number {
  return parseDurationOption('--timeout', raw);
}

/** Closes the trace; a write error is reported, not fatal (the run's outcome stands). */
async function closeTrace(trace: TraceWriter | undefined): Promise<void> {
  const failure = await trace?.close();
  if (failure) process.stderr.write(`${pc.yellow('!')} the trace is incomplete: ${failure.message}\n`);
}

function usage(message: string): ExitCode {
  process.stderr.write(`${pc.red('✖')} ${message}\n`);
  return ExitCode.BAD_INPUT;
}
