import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { FieldPath, WorkflowIssue } from './issues.js';

/** A parsed YAML/JSON document that can tell the line of any field path. */
export interface WorkflowSource {
  /** The plain value, or undefined when the text did not parse. */
  readonly value: unknown;
  /** Syntax errors, with their positions. */
  readonly syntaxIssues: readonly WorkflowIssue[];
  /** 1-based line and column of the node at `path` (or of its nearest existing ancestor). */
  locate(path: FieldPath, key?: string): { line: number; col: number } | undefined;
}

/**
 * Parses YAML (JSON is YAML) keeping positions, so every later issue can name its line.
 * Duplicate keys are syntax errors.
 */
export function parseWorkflowSource(text: string): WorkflowSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxIssues: WorkflowIssue[] = doc.errors.map((error) => {
    const pos = lineCounter.linePos(error.pos[0]);
    return { path: [], message: error.message.split('\n')[0] ?? error.message, line: pos.line, col: pos.col };
  });
  const value: unknown = syntaxIssues.length === 0 ? doc.toJS({ maxAliasCount: 1000 }) : undefined;
  return {
    value,
    syntaxIssues,
    locate(path, key) {
      const offset = findOffset(doc, path, key);
      return offset === undefined ? undefined : lineCounter.linePos(offset);
    },
  };
}

function findOffset(doc: Document, path: FieldPath, key: string | undefined): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  const segments = key === undefined ? path : [...path, key];
  for (const [i, seg] of segments.entries()) {
    const next = child(node, seg, key !== undefined && i === segments.length - 1);
    if (next === undefined) break;
    node = next.node;
    offset = next.offset ?? offset;
  }
  return offset;
}

function child(
  node: unknown,
  seg: string | number,
  wantKey: boolean,
): { node: unknown; offset?: number } | undefined {
  if (isMap(node)) {
    const pair = node.items.find(
      (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(seg),
    );
    if (!pair) return undefined;
    const keyOffset = rangeStart(pair.key);
    if (wantKey) return { node: pair.key, ...(keyOffset === undefined ? {} : { offset: keyOffset }) };
    const at = rangeStart(pair.value) ?? keyOffset;
    return { node: pair.value, ...(at === undefined ? {} : { offset: at }) };
  }
  if (isSeq(node) && typeof seg === 'number') {
    const item: unknown = node.items[seg];
    if (item === undefined) return undefined;
    const at = rangeStart(item);
    return { node: item, ...(at === undefined ? {} : { offset: at }) };
  }
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Partial<Node> | null | undefined)?.range;
  return range ? range[0] : undefined;
}
