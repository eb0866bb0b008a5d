import type { AnyActor, InspectionEvent } from 'xstate';
import type { Clock } from '../../core/clock.js';
import type { RunEvent } from '../../core/events.js';
import { actorPath } from '../runActor.js';

/**
 * An XState `inspect` callback that turns every snapshot of run `runId`'s actors into a
 * `transition` RunEvent (actor path, machine id, new state, event type) handed to `emit`.
 */
export function transitionInspector(
  runId: string,
  clock: Clock,
  emit: (event: RunEvent) => void,
): (ev: InspectionEvent) => void {
  return (ev) => {
    if (ev.type !== '@xstate.snapshot') return;
    const snap = ev.snapshot as { value?: unknown };
    if (snap.value === undefined) return;
    const ref = ev.actorRef as AnyActor;
    const machineId = (ref.logic as { id?: unknown }).id;
    emit({
      type: 'transition',
      at: clock.now(),
      runId,
      actor: actorPath(ref),
      machine: typeof machineId === 'string' ? machineId : 'actor',
      state: snap.value,
      event: ev.event.type,
    });
  };
}
