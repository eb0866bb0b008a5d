/** A path into the workflow document: keys and array indices. */
export type FieldPath = readonly (string | number)[];

/** One problem with a workflow file, located by field path and (when known) line and column. */
export interface WorkflowIssue {
  readonly path: FieldPath;
  readonly message: string;
  /** 1-based; undefined when the position is unknown. */
  readonly line?: number | undefined;
  readonly col?: number | undefined;
}

/** Formats a field path as `patterns.etl.steps[1].agent`. */
export function formatPath(path: FieldPath): string {
  return path.map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`)).join('');
}

/**
 * The workflow file cannot be used (unreadable, malformed, schema violations, broken references,
 * agents that cannot be loaded). The CLI prints {@link WorkflowError.report} and exits with code 2.
 */
export class WorkflowError extends Error {
  override readonly name = 'WorkflowError';
  readonly code = 'ND_WORKFLOW_INVALID';
  constructor(
    readonly file: string,
    readonly issues: readonly WorkflowIssue[],
  ) {
    super(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}`);
  }

  /** One line per issue: `file:line:col field.path: message`. */
  report(): string {
    return this.issues.map((issue) => formatIssue(this.file, issue)).join('\n');
  }
}

/** `file:line:col field.path: message` (the position and the path only when known). */
export function formatIssue(file: string, issue: WorkflowIssue): string {
  const pos =
    issue.line === undefined
      ? file
      : `${file}:${issue.line}${issue.col === undefined ? '' : `:${issue.col}`}`;
  const field = issue.path.length > 0 ? ` ${formatPath(issue.path)}:` : ':';
  return `${pos}${field} ${issue.message}`;
}

/** Type guard that also accepts errors rebuilt from JSON. */
export function isWorkflowError(error: unknown): error is WorkflowError {
  return error instanceof WorkflowError;
}
