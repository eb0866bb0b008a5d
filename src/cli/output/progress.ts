import { createLogUpdate } from 'log-update';
import pc from 'picocolors';
import type { RunEvent } from '../../core/events.js';
import { formatDuration, statusLabel } from './format.js';
import type { PlanNode } from './planTree.js';
import { renderTree } from './renderTree.js';
import { RunView } from './runView.js';
import { redactText } from '../../core/redact.js';

/** Shows a run while it executes. */
export interface ProgressReporter {
  readonly view: RunView;
  onEvent(event: RunEvent): void;
  /** Stops redrawing and leaves the final picture on screen. */
  finish(): void;
}

/** `tree`: redrawn in place (a TTY); `lines`: one line per change; `json`: one JSON event per line; `none`: silent. */
export type ProgressMode = 'tree' | 'lines' | 'json' | 'none';

/** Creates the reporter for `mode`, writing to `out` (stdout); `planFor`: see {@link RunView}. */
export function createProgress(
  mode: ProgressMode,
  plan: PlanNode,
  out: NodeJS.WriteStream,
  planFor?: (pattern: string) => PlanNode,
): ProgressReporter {
  const view = new RunView(plan, planFor);
  switch (mode) {
    case 'tree':
      return treeProgress(view, out);
    case 'lines':
      return {
        view,
        onEvent: (event) => {
          view.apply(event);
          const line = plainLine(event);
          if (line) out.write(`${redactText(line)}\n`);
        },
        finish: () => undefined,
      };
    case 'json':
      return {
        view,
        onEvent: (event) => {
          view.apply(event);
          out.write(`${redactText(JSON.stringify(event))}\n`);
        },
        finish: () => undefined,
      };
    case 'none':
      return { view, onEvent: (event) => void view.apply(event), finish: () => undefined };
  }
}

function treeProgress(view: RunView, out: NodeJS.WriteStream): ProgressReporter {
  const log = createLogUpdate(out);
  const draw = (): void => log(redactText(renderTree(view.root, view)));
  const timer = setInterval(draw, 100);
  timer.unref();
  draw();
  return {
    view,
    onEvent: (event) => {
      if (view.apply(event)) draw();
    },
    finish: () => {
      clearInterval(timer);
      // The live frame is cut to the terminal's height; leave the whole final tree in the scrollback.
      log.clear();
      log.done();
      out.write(`${redactText(renderTree(view.root, view))}\n`);
    },
  };
}

/** One human line for a status change; undefined for events not worth a line (transitions). */
export function plainLine(event: RunEvent): string | undefined {
  const time = pc.dim(new Date(event.at).toISOString().slice(11, 23));
  switch (event.type) {
    case 'run.started':
      return `${time} run ${event.runId} started: ${event.pattern} (${event.patternType})`;
    case 'run.finished':
      return `${time} run ${event.runId} ${statusLabel(event.status)} in ${formatDuration(event.durationMs)}`;
    case 'phase.status':
      return `${time} ${event.path.join(' › ')} › phase ${event.phase}  ${statusLabel(event.status)}`;
    case 'step.status': {
      const extra = [
        event.agent ? `agent ${event.agent}` : undefined,
        event.attempt > 0 ? `attempt ${event.attempt}` : undefined,
        event.error ? pc.red(event.error.message.replace(/\s+/g, ' ').slice(0, 200)) : undefined,
      ].filter(Boolean);
      return `${time} ${event.path.join(' › ')} › ${event.step}  ${statusLabel(event.status)}  ${pc.dim(extra.join('  '))}`;
    }
    case 'breaker.state':
      return `${time} circuit breaker of agent ${event.agent}: ${event.from} → ${colorBreaker(event.to)}`;
    default:
      return undefined;
  }
}

function colorBreaker(state: string): string {
  return state === 'open' ? pc.red(state) : state === 'halfOpen' ? pc.yellow(state) : pc.green(state);
}
