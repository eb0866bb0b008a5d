import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * Readable labels for XState v5 transitions: event names with the internal
 * `xstate.after.*`, `xstate.done.*` and `xstate.error.*` events spelled out, and guards.
 */

const LOGIC_GUARDS: Readonly<Record<string, string>> = { and: ' && ', or: ' || ' };

/** A guard as text: `ok`, `ok && !big`, `inline` for an anonymous function; undefined for none. */
export function describeGuard(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const name = guard.name;
    const parts = (guard as { guards?: unknown }).guards;
    if (Array.isArray(parts)) {
      const inner = parts.map((g) => {
        const text = describeGuard(g) ?? 'inline';
        return /\s/.test(text) ? `(${text})` : text;
      });
      if (name === 'not') return `!${inner.join(', ')}`;
      const joiner = LOGIC_GUARDS[name];
      if (joiner !== undefined) return inner.join(joiner);
    }
    return name === '' || name === 'guard' ? 'inline' : name;
  }
  if (typeof guard === 'object' && 'type' in guard && typeof guard.type === 'string') return guard.type;
  return 'guard';
}

/** Formats a delay in ms: `500 ms`, `2 s`, `1.5 min`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(2))} s`;
  return `${Number((ms / 60_000).toFixed(2))} min`;
}

function describeDelay(machine: AnyStateMachine, delay: unknown): string {
  if (typeof delay === 'number') return formatMs(delay);
  if (typeof delay === 'string') {
    const delays = machine.implementations.delays as Readonly<Record<string, unknown>> | undefined;
    const value = delays?.[delay];
    return typeof value === 'number' ? `${delay} (${formatMs(value)})` : delay;
  }
  return 'dynamic delay';
}

/** The event of a transition out of `node`, readably: `after 1 s`, `done: fetch`, `error: fetch`, `done`. */
export function describeEvent(machine: AnyStateMachine, node: AnyStateNode, eventType: string): string {
  if (eventType.startsWith('xstate.after.')) {
    const def = node.after.find((a) => a.eventType === eventType);
    return `after ${describeDelay(machine, def?.delay ?? eventType.split('.')[2])}`;
  }
  if (eventType.startsWith('xstate.done.actor.'))
    return `done: ${eventType.slice('xstate.done.actor.'.length)}`;
  if (eventType.startsWith('xstate.error.actor.'))
    return `error: ${eventType.slice('xstate.error.actor.'.length)}`;
  if (eventType.startsWith('xstate.done.state.')) return 'done';
  return eventType;
}

/** `event [guard]`, or just the event. */
export function transitionLabel(event: string, guard: unknown): string {
  const g = describeGuard(guard);
  return g === undefined ? event : `${event} [${g}]`;
}
