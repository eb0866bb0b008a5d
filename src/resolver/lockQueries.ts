/**
 * Read-only views of a lock table's state (pure functions): its wait-for graph and its current
 * conflicts.
 */
import type { Conflict, LockRequest } from './lockTypes.js';
import type { WaitEdge } from './waitForGraph.js';

/** What the queries read: waiting requests in service order, and who holds each name. */
export interface LockView {
  /** Waiting requests, first served first. */
  readonly ordered: readonly LockRequest[];
  /** The held request holding `name`, if any. */
  holderOf(name: string): LockRequest | undefined;
}

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
      const h = view.holderOf(n);
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
    const h = view.holderOf(resource);
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
