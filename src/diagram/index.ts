/**
 * State diagrams: build a {@link Diagram} from a machine, a pattern spec or a run trace, then
 * render it as Mermaid, Graphviz DOT or SVG.
 */
export { fromMachine, initialId, type FromMachineOptions } from './fromMachine.js';
export { fromPattern, fromPatterns, type FromPatternOptions, type PatternResolver } from './fromPattern.js';
export { fromTrace } from './fromTrace.js';
export { parseTrace, TraceParseError } from './parseTrace.js';
export { toMermaid, mermaidText, type MermaidOptions } from './mermaid.js';
export { toDot, dotString, type DotOptions } from './dot.js';
export { renderSvg } from './svg.js';
export { statusStyle, diagramStatuses, type StatusStyle } from './palette.js';
export { DiagramBuilder, childrenOf, isContainer, ancestry } from './graph.js';
export type { Diagram, DiagramNode, DiagramEdge, DiagramStatus, NodeKind, EdgeKind } from './graph.js';
