import type { RunEvent } from '../core/events.js';
import { spanError, type RunTrace, type SpanFactory } from './runTrace.js';
import { Attr } from './span.js';

/**
 * Turns one `step.status` event into step, attempt, wait and compensation spans and span events
 * (level `standard`; `detailed` adds the queue and backoff waits).
 */
export function onStepStatus(
  run: RunTrace,
  e: Extract<RunEvent, { type: 'step.status' }>,
  spans: SpanFactory,
  detailed: boolean,
): void {
  const { at } = e;
  switch (e.status) {
    case 'running': {
      const s = run.step(e.path, e.step, at);
      run.endWait(s, at);
      if (detailed && s.queuedSince !== undefined) {
        // the wait for an agent slot or an open breaker, now that it is over
        const wait = spans.start(run.runId, 'wait', `wait queue ${e.step}`, s.span, s.queuedSince, {
          [Attr.WAIT]: 'queue',
          [Attr.STEP]: e.step,
          [Attr.ATTEMPT]: e.attempt,
        });
        spans.end(wait, at);
      }
      s.queuedSince = undefined;
      if (s.attempt) spans.end(s.attempt, at, { type: 'superseded', message: 'a new attempt started' });
      const agent = e.agent ?? 'unknown';
      s.attempt = spans.start(run.runId, 'attempt', `invoke_agent ${agent}`, s.span, at, {
        [Attr.OPERATION]: 'invoke_agent',
        [Attr.AGENT_NAME]: agent,
        [Attr.AGENT_ID]: agent,
        [Attr.STEP]: e.step,
        [Attr.ATTEMPT]: e.attempt,
      });
      return;
    }
    case 'retrying': {
      const s = run.step(e.path, e.step, at);
      const error = spanError(e.error, 'failed');
      if (s.attempt) spans.end(s.attempt, at, error);
      s.attempt = undefined;
      spans.event(s.span, 'ndf.retry', at, {
        [Attr.ATTEMPT]: e.attempt,
        [Attr.ERROR_TYPE]: error.type,
        'error.message': error.message,
      });
      if (detailed) {
        run.endWait(s, at);
        s.wait = spans.start(run.runId, 'wait', `wait backoff ${e.step}`, s.span, at, {
          [Attr.WAIT]: 'backoff',
          [Attr.STEP]: e.step,
          [Attr.ATTEMPT]: e.attempt,
        });
      }
      return;
    }
    case 'completed':
    case 'failed':
    case 'cancelled': {
      const s = run.step(e.path, e.step, at);
      s.span.attributes[Attr.ATTEMPTS] = e.attempt;
      s.span.attributes[Attr.STEP_STATUS] = e.status;
      if (e.agent !== undefined) s.span.attributes[Attr.AGENT_NAME] = e.agent;
      run.closeStep(s, at, e.status === 'completed' ? undefined : spanError(e.error, e.status));
      return;
    }
    case 'compensating': {
      const s = run.step(e.path, e.step, at);
      spans.event(run.pattern(e.path, at), 'ndf.compensation', at, { [Attr.STEP]: e.step });
      s.compensation = spans.start(run.runId, 'compensation', `compensate ${e.step}`, s.span, at, {
        [Attr.STEP]: e.step,
        ...(e.agent === undefined ? {} : { [Attr.AGENT_NAME]: e.agent }),
      });
      return;
    }
    case 'compensated':
    case 'compensationFailed': {
      const s = run.peek(e.path, e.step);
      if (!s?.compensation) return;
      s.compensation.attributes[Attr.COMPENSATION] = e.status;
      spans.end(s.compensation, at, e.status === 'compensated' ? undefined : spanError(e.error, e.status));
      s.compensation = undefined;
      return;
    }
    case 'skipped':
      spans.event(run.pattern(e.path, at), 'ndf.step.skipped', at, { [Attr.STEP]: e.step });
      return;
    case 'pending':
      return;
  }
}
