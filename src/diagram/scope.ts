import { ancestry, type Diagram, type DiagramEdge } from './graph.js';

/**
 * Where an edge belongs in a nested diagram: the innermost container enclosing both ends
 * (`scope`, undefined = top level) and the ends lifted to that container's direct children.
 * Formats that cannot draw edges across container boundaries (Mermaid) draw the lifted edge.
 */
export interface ScopedEdge {
  readonly scope: string | undefined;
  readonly from: string;
  readonly to: string;
  readonly edge: DiagramEdge;
}

/** Lifts every edge to the scope of its ends' lowest common container. */
export function scopeEdges(diagram: Diagram): ScopedEdge[] {
  const chains = new Map<string, string[]>();
  const chainOf = (id: string): string[] => {
    let chain = chains.get(id);
    if (chain === undefined) {
      chain = ancestry(diagram, id);
      chains.set(id, chain);
    }
    return chain;
  };
  return diagram.edges.map((edge) => {
    const fromChain = chainOf(edge.from);
    const toChain = chainOf(edge.to);
    const toStrict = new Set(toChain.slice(1));
    const scopeIndex = fromChain.findIndex((id, i) => i > 0 && toStrict.has(id));
    const scope = scopeIndex === -1 ? undefined : fromChain[scopeIndex];
    const lift = (chain: string[]): string => {
      const at = scope === undefined ? chain.length : chain.indexOf(scope);
      return chain[at - 1] ?? chain[0] ?? '';
    };
    return { scope, from: lift(fromChain), to: lift(toChain), edge };
  });
}

/** Whether `id` lies inside the container `containerId` (at any depth, excluding itself). */
export function isInside(diagram: Diagram, id: string, containerId: string): boolean {
  return ancestry(diagram, id).slice(1).includes(containerId);
}
