import { childrenOf, isContainer, type Diagram, type DiagramEdge, type DiagramNode } from './graph.js';
import { statusStyle } from './palette.js';
import { isInside } from './scope.js';

/** Options of {@link toDot}. */
export interface DotOptions {
  /** Layout direction (default `TB`). */
  readonly rankdir?: 'TB' | 'LR' | undefined;
}

const FONT = 'Helvetica,Arial,sans-serif';
/** Background of nested clusters, by depth. */
const CLUSTER_FILLS = ['#f5f7fa', '#e9eef5', '#dde5ef'];

/** A DOT double-quoted string: backslashes and quotes escaped, newlines as `\n`. */
export function dotString(text: string): string {
  const body = text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n');
  return `"${body}"`;
}

function attrs(pairs: Record<string, string | number | undefined>): string {
  const parts = Object.entries(pairs)
    .filter((p): p is [string, string | number] => p[1] !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? String(v) : dotString(v)}`);
  return parts.length === 0 ? '' : ` [${parts.join(', ')}]`;
}

const anchorOf = (id: string): string => `${id}::anchor`;
const clusterOf = (id: string): string => `cluster_${id}`;

function nodeLine(node: DiagramNode): string {
  if (node.kind === 'initial') {
    return `${dotString(node.id)}${attrs({ shape: 'point', width: 0.16, fillcolor: '#263238', color: '#263238', label: '' })}`;
  }
  const s = node.status === undefined ? undefined : statusStyle[node.status];
  return `${dotString(node.id)}${attrs({
    label: node.label,
    fillcolor: s?.fill,
    color: s?.stroke,
    fontcolor: s?.text,
    peripheries: node.kind === 'final' ? 2 : undefined,
    penwidth: s === undefined ? undefined : 1.6,
  })}`;
}

/** The edge label; an edge from a container into itself is taken from any of its states. */
function labelOf(diagram: Diagram, edge: DiagramEdge, fromBox: boolean): string | undefined {
  const text =
    fromBox && isInside(diagram, edge.to, edge.from)
      ? `${edge.label ?? ''} (from any state)`.trim()
      : edge.label;
  return text === undefined || text === '' ? undefined : ` ${text} `;
}

/** Edges with the same ends and kind drawn as one, their labels one per line (readable self-loops). */
function mergeParallel(edges: readonly DiagramEdge[]): DiagramEdge[] {
  const merged = new Map<string, DiagramEdge>();
  for (const e of edges) {
    const key = JSON.stringify([e.from, e.to, e.kind ?? 'transition']);
    const prev = merged.get(key);
    const labels = [prev?.label, e.label].filter((l): l is string => l !== undefined && l !== '');
    merged.set(key, { ...e, label: labels.length === 0 ? undefined : [...new Set(labels)].join('\n') });
  }
  return [...merged.values()];
}

function edgeLine(diagram: Diagram, edge: DiagramEdge, containers: ReadonlySet<string>): string {
  const fromBox = containers.has(edge.from);
  const toBox = containers.has(edge.to);
  const tail = fromBox ? anchorOf(edge.from) : edge.from;
  const head = toBox ? anchorOf(edge.to) : edge.to;
  const selfBox = edge.from === edge.to;
  const kind = edge.kind ?? 'transition';
  return `${dotString(tail)} -> ${dotString(head)}${attrs({
    label: labelOf(diagram, edge, fromBox),
    ltail: fromBox && !selfBox && !isInside(diagram, edge.to, edge.from) ? clusterOf(edge.from) : undefined,
    lhead: toBox && !selfBox && !isInside(diagram, edge.from, edge.to) ? clusterOf(edge.to) : undefined,
    style: kind === 'compensation' ? 'dashed' : undefined,
    color: kind === 'compensation' ? '#ef6c00' : kind === 'dependency' ? '#607d8b' : undefined,
    fontcolor: kind === 'compensation' ? '#bf360c' : undefined,
  })}`;
}

/**
 * Renders a diagram as Graphviz DOT: containers as clusters (rounded, shaded by depth or by
 * status; a parallel container says so in its title), initial pseudo-states as dots, final
 * states with a double border, statuses as fill/border/text colours, compensation edges
 * dashed orange. Edges to or from a container are clipped at the cluster border
 * (`compound=true`, `lhead`/`ltail`). Ids and labels are quoted and escaped, so any name is
 * safe. Render it with `renderSvg`.
 *
 * @example
 * const svg = await renderSvg(toDot(fromMachine(stepMachine)));
 */
export function toDot(diagram: Diagram, options: DotOptions = {}): string {
  const containers = new Set(diagram.nodes.filter(isContainer).map((n) => n.id));
  const lines = [
    `digraph ${dotString(diagram.title ?? 'diagram')} {`,
    `  graph${attrs({ compound: 'true', rankdir: options.rankdir ?? 'TB', fontname: FONT, fontsize: 14, labelloc: 't', label: diagram.title, nodesep: 0.5, ranksep: 0.55, pad: 0.3 })};`,
    `  node${attrs({ shape: 'box', style: 'rounded,filled', fillcolor: '#ffffff', color: '#455a64', fontname: FONT, fontsize: 12, margin: '0.2,0.08' })};`,
    `  edge${attrs({ fontname: FONT, fontsize: 10, color: '#546e7a', fontcolor: '#37474f', arrowsize: 0.7 })};`,
  ];
  const emit = (parent: string | undefined, indent: string, depth: number): void => {
    for (const node of childrenOf(diagram, parent)) {
      if (!isContainer(node)) {
        lines.push(`${indent}${nodeLine(node)};`);
        continue;
      }
      const s = node.status === undefined ? undefined : statusStyle[node.status];
      const title = node.kind === 'parallel' ? `${node.label}\n(parallel regions)` : node.label;
      lines.push(`${indent}subgraph ${dotString(clusterOf(node.id))} {`);
      lines.push(
        `${indent}  graph${attrs({
          label: title,
          style: node.kind === 'parallel' ? 'rounded,filled,dashed' : 'rounded,filled',
          fillcolor: s?.fill ?? CLUSTER_FILLS[depth % CLUSTER_FILLS.length],
          color: s?.stroke ?? '#90a4ae',
          fontcolor: s?.text ?? '#263238',
          fontsize: 13,
          labeljust: 'l',
        })};`,
      );
      lines.push(
        `${indent}  ${dotString(anchorOf(node.id))}${attrs({ shape: 'point', style: 'invis', width: 0.01, height: 0.01, label: '' })};`,
      );
      emit(node.id, `${indent}  `, depth + 1);
      lines.push(`${indent}}`);
    }
  };
  emit(undefined, '  ', 0);
  for (const edge of mergeParallel(diagram.edges)) lines.push(`  ${edgeLine(diagram, edge, containers)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
