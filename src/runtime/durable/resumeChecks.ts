import { InvalidPatternError } from '../../core/errors.js';
import type { StepSpec } from '../../core/spec.js';
import type { ChildPattern, OrchestrationInput } from '../../machines/orchestration.machine.js';
import type { JournalEntry } from '../../store/journal.js';
import { describeChanges, diffShapes, shapeHash, type ShapeStep } from './specShape.js';

/**
 * Refuses to resume run `runId` when its pattern's shape changed since the run started, naming
 * what changed, unless `allowChanged`.
 * @throws InvalidPatternError with `details.field` `'pattern'` and the changes in the message
 */
export function checkShape(
  runId: string,
  patternName: string,
  started: Extract<JournalEntry, { kind: 'runStarted' }>,
  shape: readonly ShapeStep[],
  allowChanged: boolean,
): void {
  if (allowChanged || started.specHash === shapeHash(shape)) return;
  const what = started.steps ? describeChanges(diffShapes(started.steps, shape)) : '';
  throw new InvalidPatternError(
    `Run ${runId} cannot resume: pattern "${patternName}" changed since the run started (${
      what || 'its definition differs'
    }). Resume with allowChangedPattern (ndf: --allow-changed-pattern) to continue anyway.`,
    { patternName, field: 'pattern' },
  );
}

/** True when some step of the planned run waits for a signal. */
export function hasSignalWait(child: ChildPattern): boolean {
  if (child.kind === 'orchestration') {
    return Object.values((child.input as OrchestrationInput).children).some(hasSignalWait);
  }
  const spec = (child.input as { spec?: { steps?: readonly StepSpec[]; tasks?: readonly StepSpec[] } }).spec;
  return (spec?.steps ?? spec?.tasks ?? []).some((s) => s.waitFor !== undefined);
}
