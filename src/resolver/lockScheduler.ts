/**
 * Granting in a lock table: walks the waiting requests in service order and grants each one
 * whose names are all free and not wanted by an earlier blocked waiter (all-or-nothing, no
 * overtaking on a shared name), letting it take names from holders first when the policy allows
 * (preemption, wound-wait); when nothing more can be granted, breaks a deadlock and starts over.
 */
import { breakDeadlock } from './lockDeadlock.js';
import { serviceOrder } from './lockOrdering.js';
import { mayTake, take } from './lockPreemption.js';
import type { LockView } from './lockQueries.js';
import type { LockState } from './lockState.js';
import type { LockEffect, LockPolicy } from './lockTypes.js';

/** The read view of `state` under `policy`: waiting requests in service order, holders by name. */
export function lockView(state: LockState, policy: LockPolicy): LockView {
  return {
    ordered: serviceOrder(state.waiting(), policy, (owner) => state.ageOf(owner)),
    holderOf: (name) => state.holderOf(name),
  };
}

/**
 * Grants what can be granted in service order, applying preemption and wound-wait, then breaks
 * deadlocks; returns every grant, revocation and rejection in the order they happened.
 * @param detect - look for deadlocks; a release or cancel only removes wait-for edges (a grant
 *   turns "queued behind r" into "waits for r's owner", the same edge, except for r's owner
 *   queued again on the same name, checked at the grant), so it can skip the search unless the
 *   adaptive strategy may have re-ordered the queues
 */
export function schedule(state: LockState, policy: LockPolicy, now: number, detect = true): LockEffect[] {
  const effects: LockEffect[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    const blocked = new Set<string>();
    for (const r of lockView(state, policy).ordered) {
      if (r.names.some((n) => blocked.has(n))) {
        for (const n of r.names) blocked.add(n);
        continue;
      }
      const holders = state.holdersOf(r.names);
      if (holders.length > 0 && holders.every((h) => mayTake(state, policy, h, r))) {
        for (const h of holders) effects.push(...take(state, policy, h, r, now));
      }
      if (r.names.every((n) => state.holderOf(n) === undefined)) {
        effects.push(state.grant(r, now));
        // the one cycle a grant can create: the same owner queued again for a name it now holds
        if (!detect)
          detect = [...state.waiting()].some(
            (p) => p.owner === r.owner && p.names.some((n) => r.names.includes(n)),
          );
        changed = true;
        break;
      }
      for (const n of r.names) blocked.add(n);
    }
    if (!changed && (detect || policy.strategy === 'adaptive')) {
      const aborted = breakDeadlock(state, lockView(state, policy), now);
      if (aborted) effects.push(aborted);
      changed = aborted !== undefined;
    }
  }
  return effects;
}
