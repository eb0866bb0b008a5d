import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AgentError } from '../core/errors.js';
import { parseWith } from '../core/validate.js';
import type { Agent, AgentTask, CompensationTask } from '../core/agent.js';
import { toTaskRequest, type TaskRequest } from '../protocol/protocol.js';
import { defaultKillGraceMs, spawnInGroup, terminateGroup } from './processGroup.js';
import { durationMs, positiveDurationMs } from '../core/duration.js';

/** Options of {@link createCommandAgent}, validated with zod. */
export const commandAgentOptionsSchema = z
  .object({
    id: z.string().min(1),
    capabilities: z.array(z.string().min(1)).min(1),
    maxConcurrent: z.number().int().min(1).default(4),
    /** argv: `command[0]` is the executable (looked up on PATH), the rest its arguments. */
    command: z.array(z.string().min(1)).min(1),
    /** Working directory (absolute, or relative to the current one). */
    cwd: z.string().optional(),
    /** Added to the parent's environment. */
    env: z.record(z.string(), z.string()).default({}),
    /** Names removed from the parent's environment before `env` is added (e.g. credentials the child must not see). */
    unsetEnv: z.array(z.string().min(1)).default([]),
    /**
     * Fails the attempt after this many ms and kills the command's process group (SIGTERM, then
     * SIGKILL `killGraceMs` later).
     */
    timeoutMs: positiveDurationMs.optional(),
    /**
     * Grace period between SIGTERM and SIGKILL when the command is killed (timeout,
     * cancellation), ms; default env `NDF_KILL_GRACE_MS`, else 2000.
     */
    killGraceMs: durationMs.optional(),
    /** Where the task JSON goes: the child's stdin, or the environment variable `taskEnv`. */
    taskVia: z.enum(['stdin', 'env']).default('stdin'),
    taskEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .default('NDF_TASK'),
    /** argv run to undo a completed task; it receives the task and its output the same way. */
    compensate: z.array(z.string().min(1)).min(1).optional(),
    /** Where the options came from, for error messages (e.g. `agents.tsc`). */
    source: z.string().optional(),
  })
  .strict();
/** Options of {@link createCommandAgent} (see {@link commandAgentOptionsSchema}). */
export type CommandAgentOptions = z.input<typeof commandAgentOptionsSchema>;
type ParsedOptions = z.infer<typeof commandAgentOptionsSchema>;

const STDERR_TAIL = 2_000;
const MAX_STDOUT = 64 * 1024 * 1024;

/**
 * Finds an executable the way `spawn` would: a name with a slash is resolved against `cwd`,
 * a bare name is looked up on `PATH`. Returns the absolute path, or undefined when there is none.
 *
 * @example
 * resolveExecutable('node', process.cwd()); // '/usr/bin/node'
 */
export function resolveExecutable(
  name: string,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const candidates = name.includes('/')
    ? [path.resolve(cwd, name)]
    : (env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.resolve(cwd, dir, name));
  return candidates.find(isExecutableFile);
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The envelope a command receives: the task request of docs/protocol.md, the same JSON an HTTP
 * agent gets as its POST body and a NATS agent as its request. `kind` is `compensate` (with the
 * completed task's `output`) for a compensation, including one handed to `execute` by a step's
 * `compensate: { agent }`; else `task`.
 */
export function commandEnvelope(task: AgentTask | CompensationTask): TaskRequest {
  return toTaskRequest(task, isCompensation(task) ? 'compensate' : 'task');
}

function isCompensation(task: AgentTask): task is CompensationTask {
  return 'output' in task;
}

/** stdout parsed as JSON when it is JSON, else the trimmed text (undefined when empty). */
export function parseStdout(stdout: string): unknown {
  const text = stdout.trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * An agent that runs a command per task, without a shell. The task envelope (see
 * {@link commandEnvelope}) is written as JSON to stdin (or put in the env variable `taskEnv`),
 * and `NDF_CWD` holds the directory the runtime was started from (like npm's INIT_CWD);
 * stdout is the result (parsed as JSON when it is JSON). A non-zero exit fails the attempt with
 * the tail of stderr in the message; a missing executable fails it without retry.
 *
 * Each command runs in its own process group (see processGroup.ts). A timeout, a cancellation
 * (`task.signal`) or an oversized stdout fails the attempt at once and terminates the group:
 * SIGTERM, then SIGKILL `killGraceMs` later (default env `NDF_KILL_GRACE_MS`, else 2000 ms).
 * What remains of the group when the command exits is terminated the same way, and no group
 * outlives this process (an exit hook, and a watchdog process for SIGKILL).
 *
 * @throws PatternValidationError when an option is malformed
 * @example
 * const tsc = createCommandAgent({ id: 'tsc', capabilities: ['typecheck'], command: ['npx', 'tsc', '--noEmit'] });
 */
export function createCommandAgent(options: CommandAgentOptions): Agent {
  const parsed = parseWith(commandAgentOptionsSchema, options, `command agent ${options.id}`);
  const opts = { ...parsed, killGraceMs: parsed.killGraceMs ?? defaultKillGraceMs() };
  const agent: Agent = {
    id: opts.id,
    capabilities: opts.capabilities,
    maxConcurrent: opts.maxConcurrent,
    kind: 'command',
    // A compensation task handed to execute (a step's `compensate: { agent }`) keeps its kind and output.
    execute: (task) => runCommand(opts, opts.command, 'command', commandEnvelope(task), task),
  };
  const undo = opts.compensate;
  if (!undo) return agent;
  return {
    ...agent,
    compensate: async (task: CompensationTask) => {
      await runCommand(opts, undo, 'compensate', toTaskRequest(task, 'compensate'), task);
    },
  };
}

/**
 * Runs one argv with the task envelope (`request`, as JSON on stdin or in `taskEnv`) and
 * resolves with its parsed stdout. `field` names the option the argv came from, for error
 * messages.
 */
export function runCommand(
  opts: Pick<
    ParsedOptions,
    'id' | 'cwd' | 'env' | 'timeoutMs' | 'killGraceMs' | 'taskVia' | 'taskEnv' | 'source'
  > & {
    unsetEnv?: readonly string[];
  },
  argv: readonly string[],
  field: string,
  request: TaskRequest,
  task: Pick<AgentTask, 'signal' | 'deadline' | 'traceContext'>,
): Promise<unknown> {
  const [file, ...args] = argv;
  const where = `${opts.source ?? `agent ${opts.id}`}.${field}`;
  const payload = JSON.stringify(request);
  const unset = new Set(opts.unsetEnv ?? []);
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !unset.has(k))),
    NDF_CWD: process.cwd(),
    ...opts.env,
    ...(opts.taskVia === 'env' ? { [opts.taskEnv]: payload } : {}),
    // W3C trace context as OpenTelemetry's env carrier spells it (the attempt's span is the parent)
    ...(task.traceContext ? { TRACEPARENT: task.traceContext.traceparent } : {}),
    ...(task.traceContext?.tracestate ? { TRACESTATE: task.traceContext.tracestate } : {}),
  };
  return new Promise<unknown>((resolve, reject) => {
    if (file === undefined) return reject(new AgentError(`${where}: empty command`, { agentId: opts.id }));
    if (task.signal.aborted) return reject(abortError(opts.id, where, task.signal));
    const graceMs = opts.killGraceMs ?? defaultKillGraceMs();
    const child = spawnInGroup(
      file,
      args,
      { cwd: opts.cwd, env, shell: false, stdio: ['pipe', 'pipe', 'pipe'] },
      graceMs,
    );
    const { stdin, stdout: out, stderr: err } = child;
    if (!stdin || !out || !err) throw new Error('unreachable: spawned with pipes');
    let stdout = '';
    let stderr = '';
    let failure: AgentError | undefined;
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      task.signal.removeEventListener('abort', onAbort);
    };
    // Reported when it happens, not when the pipes close; the group dies in the background
    // (processGroup.ts makes sure it does, even if this process exits first).
    const kill = (reason: AgentError): void => {
      if (failure) return;
      failure = reason;
      cleanup();
      if (child.pid !== undefined) terminateGroup(child.pid, graceMs);
      reject(reason);
    };
    const onAbort = (): void => kill(abortError(opts.id, where, task.signal));
    task.signal.addEventListener('abort', onAbort, { once: true });
    const limit = effectiveTimeout(opts.timeoutMs, task.deadline);
    if (limit !== undefined) {
      timer = setTimeout(
        () =>
          kill(
            new AgentError(`${where}: "${file}" timed out after ${limit} ms`, {
              agentId: opts.id,
              timeoutMs: limit,
              retryable: true,
            }),
          ),
        limit,
      );
    }
    out.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > MAX_STDOUT)
        kill(new AgentError(`${where}: stdout exceeds ${MAX_STDOUT} bytes`, { agentId: opts.id }));
    });
    err.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL * 4);
    });
    stdin.on('error', () => undefined); // a child that never reads stdin is fine
    stdin.end(opts.taskVia === 'stdin' ? payload : '');
    child.on('error', (error: NodeJS.ErrnoException) => {
      cleanup();
      if (failure) return;
      const missing = error.code === 'ENOENT';
      const message = missing
        ? `${where}[0]: command "${file}" not found (cwd ${opts.cwd ?? process.cwd()})`
        : `${where}: cannot start "${file}": ${error.message}`;
      reject(new AgentError(message, { agentId: opts.id, field: `${where}[0]`, retryable: false }, error));
    });
    child.on('close', (code, signal) => {
      cleanup();
      if (failure) return; // already reported
      if (code === 0) return resolve(parseStdout(stdout));
      const tail = stderr.trim().slice(-STDERR_TAIL);
      const how = code === null ? `was killed by ${signal ?? 'a signal'}` : `exited with code ${code}`;
      reject(
        new AgentError(`${where}: "${file}" ${how}${tail ? `: ${tail}` : ''}`, {
          agentId: opts.id,
          retryable: true,
        }),
      );
    });
  });
}

function effectiveTimeout(timeoutMs: number | undefined, deadline: number | undefined): number | undefined {
  const untilDeadline = deadline === undefined ? undefined : Math.max(1, deadline - Date.now());
  if (timeoutMs === undefined) return untilDeadline;
  return untilDeadline === undefined ? timeoutMs : Math.min(timeoutMs, untilDeadline);
}

function abortError(agentId: string, where: string, signal: AbortSignal): AgentError {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? reason.message : 'aborted';
  return new AgentError(`${where}: cancelled (${why})`, { agentId, retryable: false });
}
