/**
 * Taking names from their holders, the two ways a lock table allows it:
 * - priority preemption (`preemption: true` under the `priority` strategy): a waiter revokes
 *   strictly lower-priority holders, one holding each;
 * - wound-wait (`prevention: 'woundWait'`): an older owner wounds a younger holder, which loses
 *   every holding and every waiting request at once (a younger owner waits instead), so no
 *   wait-for cycle can form (Rosenkrantz, Stearns & Lewis 1978).
 */
import type { LockState } from './lockState.js';
import type { LockEffect, LockPolicy, LockRequest } from './lockTypes.js';

/** Whether waiting request `by` may take its names from holding `h` under `policy`. */
export function mayTake(state: LockState, policy: LockPolicy, h: LockRequest, by: LockRequest): boolean {
  if (h.owner === by.owner) return false;
  const older = (state.ageOf(by.owner) ?? 0) < (state.ageOf(h.owner) ?? 0);
  return (
    (policy.prevention === 'woundWait' && older) ||
    (policy.preemption && policy.effectiveStrategy === 'priority' && h.priority > by.priority)
  );
}

/** Takes holding `h` for `by` (a wound under wound-wait, else a preemption); returns the revocations and rejections. */
export function take(
  state: LockState,
  policy: LockPolicy,
  h: LockRequest,
  by: LockRequest,
  now: number,
): LockEffect[] {
  return policy.prevention === 'woundWait' ? wound(state, h, by, now) : preempt(state, h, by, now);
}

function wound(state: LockState, h: LockRequest, by: LockRequest, now: number): LockEffect[] {
  state.history.record({
    at: now,
    kind: 'wound',
    resources: h.names,
    owners: [by.owner, h.owner],
    resolution: `wounded ${h.owner}`,
  });
  const msg = `${h.owner} wounded by older ${by.owner} (wound-wait)`;
  const { held, waiting } = state.requestsOf({ owner: h.owner });
  return [
    ...held.map((x) => state.revoke(x, 'wounded', by.owner, msg, now)),
    ...waiting.map((x) => state.reject(x, 'wounded', msg)),
  ];
}

function preempt(state: LockState, h: LockRequest, by: LockRequest, now: number): LockEffect[] {
  state.history.record({
    at: now,
    kind: 'preemption',
    resources: h.names,
    owners: [by.owner, h.owner],
    resolution: `preempted ${h.owner}`,
  });
  return [
    state.revoke(
      h,
      'preempted',
      by.owner,
      `${h.owner} (priority ${h.priority}) preempted by ${by.owner} (priority ${by.priority}) on ${h.names.join(', ')}`,
      now,
    ),
  ];
}
