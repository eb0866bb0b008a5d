/**
 * The wait-for graph of a lock table (Holt, "Some deadlock properties of computer systems",
 * 1972): an edge `a → b` means owner `a` cannot proceed until owner `b` releases, because `b`
 * holds a name `a` waits for or is queued ahead of `a` for it. A cycle is a deadlock.
 */

/** Why `from` waits for `to`: the waiting request and the name. */
export interface WaitEdge {
  readonly from: string;
  readonly to: string;
  readonly requestId: string;
  readonly resource: string;
}

/**
 * Finds one cycle, as its edges in order (`e0.from → e0.to = e1.from → … → eN.to = e0.from`),
 * or undefined when the graph is acyclic. Iterative DFS, O(V + E).
 */
export function findCycle(edges: readonly WaitEdge[]): WaitEdge[] | undefined {
  const out = new Map<string, WaitEdge[]>();
  for (const e of edges) {
    const list = out.get(e.from);
    if (list) list.push(e);
    else out.set(e.from, [e]);
  }
  const state = new Map<string, 'open' | 'done'>();
  for (const start of out.keys()) {
    if (state.has(start)) continue;
    const path: WaitEdge[] = [];
    const stack: { node: string; next: number }[] = [{ node: start, next: 0 }];
    state.set(start, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (!top) break;
      const edge = out.get(top.node)?.[top.next];
      if (!edge) {
        state.set(top.node, 'done');
        stack.pop();
        path.pop();
        continue;
      }
      top.next += 1;
      const seen = state.get(edge.to);
      if (seen === 'open') {
        const startAt = path.findIndex((e) => e.from === edge.to);
        return [...(startAt < 0 ? [] : path.slice(startAt)), edge];
      }
      if (seen === undefined) {
        state.set(edge.to, 'open');
        path.push(edge);
        stack.push({ node: edge.to, next: 0 });
      }
    }
  }
  return undefined;
}

/** `['a', 'b', 'a']` for the cycle a → b → a. */
export function cycleOwners(cycle: readonly WaitEdge[]): string[] {
  const first = cycle[0];
  return first ? [...cycle.map((e) => e.from), first.from] : [];
}
