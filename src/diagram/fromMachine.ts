import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { DiagramBuilder, type NodeKind } from './graph.js';
import type { Diagram } from './graph.js';
import { describeEvent, isGeneratedId, transitionLabel } from './machineLabels.js';

/** Options of {@link fromMachine}. */
export interface FromMachineOptions {
  /** Title of the diagram (default: the machine id). */
  readonly title?: string | undefined;
  /** Draw transitions without a target (actions only) as self-loops (default true). */
  readonly targetless?: boolean | undefined;
}

/** Id of the initial pseudo-state inside a compound node. */
export function initialId(nodeId: string): string {
  return `${nodeId}::initial`;
}

function kindOf(node: AnyStateNode): NodeKind {
  switch (node.type) {
    case 'final':
      return 'final';
    case 'parallel':
      return 'parallel';
    case 'compound':
      return 'compound';
    default:
      return 'state';
  }
}

function labelOf(node: AnyStateNode, isRoot: boolean): string {
  const lines = [node.type === 'history' ? `${node.key} (H${node.history === 'deep' ? '*' : ''})` : node.key];
  if (isRoot) lines[0] = node.machine.id;
  for (const inv of node.invoke) {
    const src = typeof inv.src === 'string' ? inv.src : inv.id;
    lines.push(src === inv.id || isGeneratedId(inv.id, node) ? `invoke ${src}` : `invoke ${src} (${inv.id})`);
  }
  return lines.join('\n');
}

/**
 * Builds the diagram of any XState v5 machine by walking `machine.root`: every state node
 * (nested and parallel), an initial pseudo-state per compound state, every transition of
 * `node.transitions` (events, `after` delays, `xstate.done.actor.*` / `xstate.error.actor.*`,
 * `onDone`) and `node.always`, labelled `event [guard]`. Node ids are the state node ids
 * (`machine.child.grandchild`). Pure: no I/O, no actor started.
 *
 * @example
 * const diagram = fromMachine(stepMachine);
 * console.log(toMermaid(diagram));
 */
export function fromMachine(machine: AnyStateMachine, options: FromMachineOptions = {}): Diagram {
  const builder = new DiagramBuilder(options.title ?? machine.id);
  const targetless = options.targetless ?? true;
  const nodes: AnyStateNode[] = [];
  const visit = (node: AnyStateNode, parent: string | undefined): void => {
    const isRoot = parent === undefined;
    builder.node({ id: node.id, label: labelOf(node, isRoot), kind: kindOf(node), parent });
    nodes.push(node);
    if (node.type === 'compound') {
      const first = node.initial.target[0];
      if (first !== undefined) {
        builder.node({ id: initialId(node.id), label: '', kind: 'initial', parent: node.id });
        builder.edge(initialId(node.id), first.id);
      }
    }
    for (const child of Object.values(node.states)) visit(child, node.id);
  };
  visit(machine.root, undefined);

  for (const node of nodes) {
    for (const [eventType, transitions] of node.transitions) {
      const event = describeEvent(machine, node, eventType);
      for (const t of transitions) {
        const targets = t.target ?? [];
        if (targets.length === 0 && !targetless) continue;
        const label = transitionLabel(event, t.guard);
        if (targets.length === 0) builder.edge(node.id, node.id, label);
        for (const target of targets) builder.edge(node.id, target.id, label);
      }
    }
    for (const t of node.always ?? []) {
      const label = transitionLabel('always', t.guard);
      for (const target of t.target ?? []) builder.edge(node.id, target.id, label);
    }
  }
  return builder.build();
}
