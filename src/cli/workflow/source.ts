import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
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

/** At most this many syntax issues are listed (a broken file can produce one per character). */
const MAX_SYNTAX_ISSUES = 20;

/**
 * Aliases a document may expand; the `yaml` library's own guard against alias bombs ("billion
 * laughs"), whose default is 100.
 */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses YAML (JSON is YAML) keeping positions, so every later issue can name its line.
 * Every problem the `yaml` library finds is an issue with a line, never a throw: syntax errors,
 * duplicate keys (`uniqueKeys`), aliases without an anchor and alias bombs (`maxAliasCount`),
 * nesting too deep for the parser.
 */
export function parseWorkflowSource(text: string): WorkflowSource {
  const lineCounter = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    // The parser recurses per nesting level; a deeply nested document can overflow the stack.
    return failed([{ path: [], message: `cannot parse the file: ${firstLine(error)}`, line: 1, col: 1 }]);
  }
  const syntaxIssues: WorkflowIssue[] = doc.errors.map((error) => {
    const pos = lineCounter.linePos(error.pos[0]);
    return { path: [], message: firstLine(error), line: pos.line, col: pos.col };
  });
  syntaxIssues.push(...collectionKeys(doc, lineCounter));
  if (syntaxIssues.length > 0) return failed(capped(syntaxIssues));
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const at = aliasOffset(doc, error);
    const pos = at === undefined ? { line: 1, col: 1 } : lineCounter.linePos(at);
    return failed([{ path: [], message: aliasMessage(error), line: pos.line, col: pos.col }]);
  }
  return {
    value,
    syntaxIssues: [],
    locate(path, key) {
      const offset = findOffset(doc, path, key);
      return offset === undefined ? undefined : lineCounter.linePos(offset);
    },
  };
}

/** Keys that are maps or lists (`? [a]`, `{a: 1}: x`): a workflow's keys are names. */
function collectionKeys(doc: Document, lineCounter: LineCounter): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  visit(doc, {
    Pair(_key, pair) {
      if (pair.key === null || isScalar(pair.key) || isAlias(pair.key)) return;
      const pos = lineCounter.linePos(rangeStart(pair.key) ?? 0);
      issues.push({ path: [], message: 'a key must be a plain value, not a map or list', ...pos });
    },
  });
  return issues;
}

function failed(syntaxIssues: readonly WorkflowIssue[]): WorkflowSource {
  return { value: undefined, syntaxIssues, locate: () => undefined };
}

function capped(issues: readonly WorkflowIssue[]): WorkflowIssue[] {
  if (issues.length <= MAX_SYNTAX_ISSUES) return [...issues];
  const last = issues[MAX_SYNTAX_ISSUES - 1];
  return [
    ...issues.slice(0, MAX_SYNTAX_ISSUES - 1),
    { ...last, path: [], message: `${issues.length - MAX_SYNTAX_ISSUES + 1} more syntax errors` },
  ];
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

function aliasMessage(error: unknown): string {
  const message = firstLine(error);
  if (/alias count/i.test(message))
    return `too many aliases (more than ${MAX_ALIAS_COUNT} expansions): ${message}`;
  return message;
}

/** Where the alias that failed to resolve is (the one named in the error, else the first alias). */
function aliasOffset(doc: Document, error: unknown): number | undefined {
  const named = /: (\S+)$/.exec(firstLine(error))?.[1];
  let first: number | undefined;
  let match: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      const start = node.range?.[0];
      first ??= start;
      if (match === undefined && node.source === named) match = start;
    },
  });
  return match ?? first;
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
