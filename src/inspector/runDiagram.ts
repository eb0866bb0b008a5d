import type { RunEvent } from '../core/events.js';
import type { PatternSpec } from '../core/spec.js';
import { fromPattern, fromTrace, renderSvg, toDot, type Diagram } from '../diagram/index.js';
import { stepNodes, type StepNode } from './stepNodes.js';

/** Looks up a pattern's spec by name (the registry's or a workflow file's patterns). */
export type SpecLookup = (name: string) => PatternSpec | undefined;

/** A run's diagram as the page draws it. */
export interface RunDiagram {
  /** `pattern`: the pattern's state diagram (as `ndf diagram --workflow`); `trace`: drawn from the run's events (as `ndf diagram --trace`). */
  readonly source: 'pattern' | 'trace';
  /** An SVG document (Graphviz `dot` layout). */
  readonly svg: string;
  /** Step nodes by node id (each SVG node group's `<title>`). */
  readonly nodes: Record<string, StepNode>;
}

async function render(diagram: Diagram, source: RunDiagram['source']): Promise<RunDiagram> {
  return { source, svg: await renderSvg(toDot(diagram)), nodes: stepNodes(diagram) };
}

/**
 * Draws runs: the pattern's own diagram when `lookup` knows the pattern (cached per pattern:
 * the same for every run of it; meta phases expanded into their patterns' steps), else the
 * diagram of what the run's events say so far (`fromTrace`, drawn anew each time).
 */
export class RunDiagrams {
  private readonly cache = new Map<string, Promise<RunDiagram>>();

  constructor(private readonly lookup: SpecLookup | undefined) {}

  /**
   * The diagram of a run of `pattern` with these events.
   * @throws Error with Graphviz's message if rendering fails
   */
  draw(pattern: string, events: readonly RunEvent[]): Promise<RunDiagram> {
    const spec = this.lookup?.(pattern);
    if (spec === undefined) return render(fromTrace(events), 'trace');
    let drawn = this.cache.get(pattern);
    if (drawn === undefined) {
      const lookup = this.lookup;
      drawn = render(fromPattern(pattern, spec, { resolve: (name) => lookup?.(name) }), 'pattern');
      drawn.catch(() => this.cache.delete(pattern));
      this.cache.set(pattern, drawn);
    }
    return drawn;
  }
}
