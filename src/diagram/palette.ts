import type { DiagramStatus } from './graph.js';

/** Fill, border and text colours of a status (CSS hex). */
export interface StatusStyle {
  readonly fill: string;
  readonly stroke: string;
  readonly text: string;
}

/**
 * Colours by status, shared by the Mermaid and DOT renderers: completed/succeeded green,
 * failed red, compensating/compensated/rolled back orange, skipped/cancelled grey,
 * running blue, retrying amber, pending white.
 */
export const statusStyle: Readonly<Record<DiagramStatus, StatusStyle>> = {
  pending: { fill: '#fafafa', stroke: '#9e9e9e', text: '#424242' },
  running: { fill: '#bbdefb', stroke: '#1565c0', text: '#0d2a4a' },
  retrying: { fill: '#fff59d', stroke: '#f9a825', text: '#3e2f00' },
  completed: { fill: '#c8e6c9', stroke: '#2e7d32', text: '#10301a' },
  succeeded: { fill: '#c8e6c9', stroke: '#2e7d32', text: '#10301a' },
  failed: { fill: '#ffcdd2', stroke: '#c62828', text: '#4a0d0d' },
  timedOut: { fill: '#ffcdd2', stroke: '#c62828', text: '#4a0d0d' },
  compensationFailed: { fill: '#ef9a9a', stroke: '#8e0000', text: '#3a0000' },
  compensating: { fill: '#ffe0b2', stroke: '#ef6c00', text: '#4a2500' },
  compensated: { fill: '#ffcc80', stroke: '#e65100', text: '#4a2500' },
  rolledBack: { fill: '#ffcc80', stroke: '#e65100', text: '#4a2500' },
  skipped: { fill: '#e0e0e0', stroke: '#757575', text: '#303030' },
  cancelled: { fill: '#e0e0e0', stroke: '#757575', text: '#303030' },
};

/** Every status, in legend order. */
export const diagramStatuses = Object.keys(statusStyle) as DiagramStatus[];
