/**
 * Deadlocks in a lock table: prevented by ordered acquisition (Havender 1968: an owner requests
 * names in ascending order only), or detected as a cycle of the wait-for graph and broken by
 * aborting one waiter of the cycle. (Wound-wait, the other prevention, is in lockPreemption.ts.)
 */
import { waitForEdges, type LockView } from './lockQueries.js';
import type { LockState } from './lockState.js';
import type { LockEffect, LockRequest } from './lockTypes.js';
import { cycleOwners, findCycle, type WaitEdge } from './waitForGraph.js';

/**
 * Ordered acquisition: refuses (and records) a request whose first name does not sort after
 * every name its owner already holds or awaits. Undefined when the request is in order.
 */
export function refuseOutOfOrder(
  state: LockState,
  request: LockRequest,
  now: number,
): LockEffect | undefined {
  const { held, waiting } = state.requestsOf({ owner: request.owner });
  const first = request.names[0] ?? '';
  const clash = [...held, ...waiting]
    .flatMap((r) => r.names)
    .filter((n) => n >= first)
    .sort();
  if (clash.length === 0) return undefined;
  state.history.record({
    at: now,
    kind: 'ordering',
    resources: request.names,
    owners: [request.owner],
    resolution: 'rejected',
  });
  return state.reject(
    request,
    'ordering',
    `ordered acquisition: ${request.owner} holds or awaits ${clash.map((n) => `'${n}'`).join(', ')} and requests '${first}', which does not sort after them`,
  );
}

/** Finds one wait-for cycle and aborts its victim (see {@link deadlockVictim}); undefined when there is none. */
export function breakDeadlock(state: LockState, view: LockView, now: number): LockEffect | undefined {
  const cycle = findCycle(waitForEdges(view));
  const found = cycle && deadlockVictim(cycle, (id) => state.getWaiting(id));
  if (!found) return undefined;
  const { victim, owners, resources, message } = found;
  state.history.record({
    at: now,
    kind: 'deadlock',
    resources,
    owners,
    resolution: `aborted ${victim.owner}`,
  });
  return state.reject(victim, 'deadlock', message, owners);
}

/**
 * The request a deadlock aborts: the lowest priority (largest number) waiting in the cycle, the
 * youngest on ties; with the cycle's owners starting at the victim and a message naming the cycle.
 * @param waitingRequest - the waiting request with an id, if any
 */
export function deadlockVictim(
  cycle: readonly WaitEdge[],
  waitingRequest: (id: string) => LockRequest | undefined,
): { victim: LockRequest; owners: string[]; resources: string[]; message: string } | undefined {
  const requests = cycle.map((e) => waitingRequest(e.requestId)).filter((r) => r !== undefined);
  const first = requests[0];
  if (!first) return undefined;
  const victim = requests.reduce(
    (a, b) => (b.priority > a.priority || (b.priority === a.priority && b.seq > a.seq) ? b : a),
    first,
  );
  const at = Math.max(
    0,
    cycle.findIndex((e) => e.requestId === victim.id),
  );
  const rotated = [...cycle.slice(at), ...cycle.slice(0, at)];
  const owners = cycleOwners(rotated);
  const path = rotated.map((e) => `${e.from} waits for ${e.to} on '${e.resource}'`).join(', ');
  return {
    victim,
    owners,
    resources: rotated.map((e) => e.resource),
    message: `deadlock ${owners.join(' → ')} (${path}): aborted the request of ${victim.owner} for ${victim.names.join(', ')} (priority ${victim.priority}, the lowest in the cycle)`,
  };
}
