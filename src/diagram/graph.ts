import type { RunStatus, StepStatus } from '../core/status.js';

/**
 * The diagram model: a small, renderer-independent graph of states. `fromMachine`,
 * `fromPattern` and `fromTrace` build it; `toMermaid` and `toDot` render it.
 */

/**
 * What a node is:
 * - `state`: an ordinary (atomic) state or step;
 * - `final`: a final state;
 * - `initial`: the pseudo-state whose single edge points at its parent's initial child;
 * - `compound`: a container whose children are exclusive (a cluster);
 * - `parallel`: a container whose children (regions) are all active at once.
 */
export type NodeKind = 'state' | 'final' | 'initial' | 'compound' | 'parallel';

/** Status a node is coloured by: a step status or a run status. */
export type DiagramStatus = StepStatus | RunStatus;

/** One node. `id` is unique in the diagram; renderers escape it, so any string is fine. */
export interface DiagramNode {
  readonly id: string;
  /** Text shown; `\n` separates lines. */
  readonly label: string;
  readonly kind: NodeKind;
  /** Id of the enclosing `compound` or `parallel` node; undefined = top level. */
  readonly parent?: string | undefined;
  /** Colours the node (see `statusStyle`). */
  readonly status?: DiagramStatus | undefined;
}

/**
 * How an edge is drawn: `transition` (solid), `compensation` (dashed, a rollback path),
 * `dependency` (a DAG edge of a parallel pattern).
 */
export type EdgeKind = 'transition' | 'compensation' | 'dependency';

/** One directed edge between two node ids (either may be a container). */
export interface DiagramEdge {
  readonly from: string;
  readonly to: string;
  /** Event, guard, delay… shown on the edge; `\n` separates lines. */
  readonly label?: string | undefined;
  readonly kind?: EdgeKind | undefined;
}

/** A whole diagram. Nodes are listed parents first; order is kept by the renderers. */
export interface Diagram {
  readonly title?: string | undefined;
  readonly nodes: readonly DiagramNode[];
  readonly edges: readonly DiagramEdge[];
}

/** Nodes whose `parent` is `parentId` (undefined = top level), in diagram order. */
export function childrenOf(diagram: Diagram, parentId: string | undefined): DiagramNode[] {
  return diagram.nodes.filter((n) => n.parent === parentId);
}

/** Whether a node is a container (drawn as a cluster / composite state). */
export function isContainer(node: DiagramNode): boolean {
  return node.kind === 'compound' || node.kind === 'parallel';
}

/** Ids of `id` and its ancestors, innermost first. */
export function ancestry(diagram: Diagram, id: string): string[] {
  const byId = new Map(diagram.nodes.map((n) => [n.id, n]));
  const chain: string[] = [];
  let current = byId.get(id);
  while (current !== undefined && !chain.includes(current.id)) {
    chain.push(current.id);
    current = current.parent === undefined ? undefined : byId.get(current.parent);
  }
  return chain;
}

/** A builder that keeps node ids unique and nodes in insertion order. */
export class DiagramBuilder {
  private readonly nodes = new Map<string, DiagramNode>();
  private readonly edges: DiagramEdge[] = [];

  constructor(private readonly title?: string) {}

  /** Adds a node (a later node with the same id replaces the earlier one's fields). */
  node(node: DiagramNode): this {
    this.nodes.set(node.id, node);
    return this;
  }

  /** Adds an edge. */
  edge(from: string, to: string, label?: string, kind?: EdgeKind): this {
    this.edges.push({
      from,
      to,
      ...(label === undefined ? {} : { label }),
      ...(kind === undefined ? {} : { kind }),
    });
    return this;
  }

  has(id: string): boolean {
    return this.nodes.has(id);
  }

  /** The finished diagram; edges whose ends are unknown are dropped. */
  build(): Diagram {
    const edges = this.edges.filter((e) => this.nodes.has(e.from) && this.nodes.has(e.to));
    return {
      ...(this.title === undefined ? {} : { title: this.title }),
      nodes: [...this.nodes.values()],
      edges,
    };
  }
}
