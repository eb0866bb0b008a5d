/**
 * Read-only views of a lock table's state (pure functions): its wait-for graph, its current
 * conflicts, and the victim of a deadlock cycle.
 */
import type { Conflict, LockRequest } from './lockTypes.js';
import { cycleOwners, type WaitEdge } from './waitForGraph.js';

/** What the queries read: waiting requests in service order, held requests, and who holds each name. */
export interface LockView {
  /** Waiting requests, first served first. */
  readonly ordered: readonly LockRequest[];
  readonly held: ReadonlyMap<string, LockRequest>;
  /** name → id of the held request. */
  readonly holderOf: ReadonlyMap<string, string>;
}

const holderOf = (view: LockView, name: string) => view.held.get(view.holderOf.get(name) ?? '');

/**
 * The wait-for edges: a waiter → the holder of each name it wants, and → the nearest earlier
 * waiter of another owner on that name. That chain reaches every earlier waiter, so the graph
 * has a cycle exactly when the full "queued behind" relation does, with O(waiters) edges.
 */
export function waitForEdges(view: LockView): WaitEdge[] {
  const edges: WaitEdge[] = [];
  const queues = new Map<string, { tail: LockRequest; before?: LockRequest | undefined }>();
  for (const r of view.ordered) {
    for (const n of r.names) {
      const h = holderOf(view, n);
      if (h) edges.push({ from: r.owner, to: h.owner, requestId: r.id, resource: n });
      const q = queues.get(n);
      const ahead = q && (q.tail.owner !== r.owner ? q.tail : q.before);
      if (ahead) edges.push({ from: r.owner, to: ahead.owner, requestId: r.id, resource: n });
      queues.set(n, { tail: r, before: q && q.tail.owner !== r.owner ? q.tail : q?.before });
    }
  }
  return edges;
}

/** Every name with waiters: its holder and its queue in service order. */
export function currentConflicts(view: LockView, now: number): Conflict[] {
  const byName = new Map<string, LockRequest[]>();
  for (const r of view.ordered) {
    for (const n of r.names) {
      const list = byName.get(n);
      if (list) list.push(r);
      else byName.set(n, [r]);
    }
  }
  return [...byName.entries()].map(([resource, waiters]) => {
    const h = holderOf(view, resource);
    return {
      resource,
      holder: h && { owner: h.owner, priority: h.priority, requestId: h.id },
      waiters: waiters.map((w) => ({
        owner: w.owner,
        priority: w.priority,
        requestId: w.id,
        waitingMs: now - w.at,
      })),
    };
  });
}

/**
 * The request a deadlock aborts: the lowest priority (largest number) waiting in the cycle, the
 * youngest on ties; with the cycle's owners starting at the victim and a message naming the cycle.
 */
export function deadlockVictim(
  cycle: readonly WaitEdge[],
  pending: ReadonlyMap<string, LockRequest>,
): { victim: LockRequest; owners: string[]; resources: string[]; message: string } | undefined {
  const requests = cycle
    .map((e) => pending.get(e.requestId))
    .filter((r): r is LockRequest => r !== undefined);
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
