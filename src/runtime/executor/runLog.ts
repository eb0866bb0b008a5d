import type { RunEvent, RunEventListener } from '../../core/events.js';
import { runLogger, stepLogger, type Logger } from '../../core/logger.js';

/** Whether `logger` writes lines at `level` (a logger without `isLevelEnabled` is taken to). */
function enabled(logger: Logger, level: 'info' | 'debug'): boolean {
  return typeof logger.isLevelEnabled !== 'function' || logger.isLevelEnabled(level);
}

interface RunLog {
  readonly log: Logger;
  readonly steps: Map<string, Logger>;
}

/**
 * A RunEvent listener that logs runs through pino child loggers, so every line carries the
 * `runId` (and `pattern`) and, for a step, the `step` and its `path`: `run started` (info), a
 * step that failed or is retrying (info, with the error under `err`), every other step status
 * and phase change (debug). `run finished` is logged by the launcher. Undefined when `logger`
 * writes nothing at info: then the executor does not listen, and runs pay nothing for it.
 */
export function runLogListener(logger: Logger): RunEventListener | undefined {
  if (!enabled(logger, 'info')) return undefined;
  const debug = enabled(logger, 'debug');
  const runs = new Map<string, RunLog>();
  const runOf = (event: RunEvent, pattern?: string): RunLog => {
    let run = runs.get(event.runId);
    if (run === undefined) {
      run = { log: runLogger(logger, event.runId, pattern), steps: new Map() };
      runs.set(event.runId, run);
    }
    return run;
  };
  return (event) => {
    switch (event.type) {
      case 'run.started':
        runOf(event, event.pattern).log.info({ patternType: event.patternType }, 'run started');
        return;
      case 'run.finished':
        runs.delete(event.runId);
        return;
      case 'step.status': {
        const failed = event.status === 'failed' || event.status === 'retrying';
        if (!failed && !debug) return;
        const run = runOf(event);
        const key = JSON.stringify([...event.path, event.step]);
        let log = run.steps.get(key);
        if (log === undefined) {
          log = stepLogger(run.log, event.path, event.step);
          run.steps.set(key, log);
        }
        const fields = { status: event.status, agent: event.agent, attempt: event.attempt, err: event.error };
        if (failed) log.info(fields, `step ${event.status}`);
        else log.debug(fields, `step ${event.status}`);
        return;
      }
      case 'phase.status':
        if (debug) runOf(event).log.debug({ phase: event.phase, status: event.status }, 'phase');
        return;
      default:
        return;
    }
  };
}
