import { childrenOf, type Diagram, type DiagramNode, type DiagramStatus } from './graph.js';
import { statusStyle } from './palette.js';
import { scopeEdges, type ScopedEdge } from './scope.js';

/** Options of {@link toMermaid}. */
export interface MermaidOptions {
  /** Layout direction (default `TB`). */
  readonly direction?: 'TB' | 'LR' | undefined;
}

const RESERVED = new Set([
  'state',
  'note',
  'end',
  'class',
  'classdef',
  'style',
  'direction',
  'click',
  'as',
  'hide',
  'scale',
  'href',
  'call',
  'left',
  'right',
  'of',
]);

/** Characters kept as they are in Mermaid text; the rest become `#<code>;` entity codes. */
const SAFE = /[\p{L}\p{M}\p{N} _.,()[\]!?*+/=@'|^$~\-:%·×→≥≤…]/u;

/** A label as Mermaid text: entity codes for quotes, `;`, `#`, `<`, `>`, `&`…; `\n` as `<br/>`. */
export function mermaidText(text: string): string {
  return text
    .split('\n')
    .map((line) => [...line].map((ch) => (SAFE.test(ch) ? ch : `#${ch.codePointAt(0) ?? 63};`)).join(''))
    .join('<br/>');
}

/** Assigns every node a Mermaid-safe, unique, readable identifier (`[A-Za-z0-9_]`). */
function mermaidIds(diagram: Diagram): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const node of diagram.nodes) {
    let base = node.id.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
    if (base === '' || /^\d/.test(base) || RESERVED.has(base.toLowerCase())) base = `s_${base}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(node.id, id);
  }
  return ids;
}

/**
 * Renders a diagram as Mermaid `stateDiagram-v2`: containers as composite states (parallel
 * regions separated by `--`), initial pseudo-states as `[*] -->`, final states with an arrow
 * to `[*]`, and one `classDef` per status used (fill, stroke and text colour). Edges across
 * container boundaries are drawn between the outermost distinct containers, since Mermaid
 * cannot draw them otherwise. Identifiers are sanitised and labels entity-encoded, so any
 * name is safe.
 *
 * @example
 * const text = toMermaid(fromMachine(stepMachine)); // "stateDiagram-v2\n  ..."
 */
export function toMermaid(diagram: Diagram, options: MermaidOptions = {}): string {
  const ids = mermaidIds(diagram);
  const byId = new Map(diagram.nodes.map((n) => [n.id, n]));
  const idOf = (id: string): string => ids.get(id) ?? 'unknown';
  const firstLine = (id: string): string => (byId.get(id)?.label ?? id).split('\n')[0] ?? id;
  const edgesByScope = new Map<string | undefined, ScopedEdge[]>();
  for (const scoped of scopeEdges(diagram)) {
    const list = edgesByScope.get(scoped.scope) ?? [];
    list.push(scoped);
    edgesByScope.set(scoped.scope, list);
  }
  const lines: string[] = [];
  if (diagram.title !== undefined) lines.push('---', `title: ${JSON.stringify(diagram.title)}`, '---');
  lines.push('stateDiagram-v2', `  direction ${options.direction ?? 'TB'}`);

  const emitScope = (parent: string | undefined, indent: string): void => {
    const children = childrenOf(diagram, parent).filter((n) => n.kind !== 'initial');
    const parallel = parent !== undefined && byId.get(parent)?.kind === 'parallel';
    children.forEach((node, i) => {
      if (parallel && i > 0) lines.push(`${indent}--`);
      emitNode(node, indent);
    });
    const seen = new Set<string>();
    for (const { from, to, edge } of edgesByScope.get(parent) ?? []) {
      const fromNode = byId.get(from);
      const left = fromNode?.kind === 'initial' ? '[*]' : idOf(from);
      const right = byId.get(to)?.kind === 'initial' ? idOf(from) : idOf(to);
      const text =
        from === to && edge.from !== edge.to ? `${edge.label ?? ''} → ${firstLine(edge.to)}` : edge.label;
      const label = text === undefined || text.trim() === '' ? '' : ` : ${mermaidText(text.trim())}`;
      const line = `${indent}${left} --> ${right}${label}`;
      if (!seen.has(line)) lines.push(line);
      seen.add(line);
    }
    for (const node of children) if (node.kind === 'final') lines.push(`${indent}${idOf(node.id)} --> [*]`);
  };
  const emitNode = (node: DiagramNode, indent: string): void => {
    const head = `${indent}state "${mermaidText(node.label === '' ? ' ' : node.label)}" as ${idOf(node.id)}`;
    if (node.kind !== 'compound' && node.kind !== 'parallel') {
      lines.push(head);
      return;
    }
    lines.push(`${head} {`);
    emitScope(node.id, `${indent}  `);
    lines.push(`${indent}}`);
  };
  emitScope(undefined, '  ');

  const byStatus = new Map<DiagramStatus, string[]>();
  for (const node of diagram.nodes) {
    if (node.status === undefined || node.kind === 'initial') continue;
    byStatus.set(node.status, [...(byStatus.get(node.status) ?? []), idOf(node.id)]);
  }
  for (const [status, members] of byStatus) {
    const s = statusStyle[status];
    lines.push(`  classDef ${status} fill:${s.fill},stroke:${s.stroke},color:${s.text}`);
    lines.push(`  class ${members.join(',')} ${status}`);
  }
  return `${lines.join('\n')}\n`;
}
