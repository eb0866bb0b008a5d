import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { PatternValidationError } from '../core/errors.js';
import { learnerStateSchema } from '../learning/ArmLearner.js';

/** Saved agent learning: one learner state per capability. */
export const agentLearningSchema = z
  .object({ version: z.literal(1), capabilities: z.record(z.string(), learnerStateSchema) })
  .strict();
export type AgentLearningState = z.infer<typeof agentLearningSchema>;

/** `<dir>/learning/agents.json`. */
export function agentLearningPath(dir: string): string {
  return join(dir, 'learning', 'agents.json');
}

/** Writes the state atomically (write-file-atomic: temp file + rename). */
export async function writeAgentLearning(dir: string, state: AgentLearningState): Promise<void> {
  await mkdir(join(dir, 'learning'), { recursive: true });
  // Loaded on first save, as FileStore does: the root import stays light.
  const { default: writeFileAtomic } = await import('write-file-atomic');
  await writeFileAtomic(agentLearningPath(dir), JSON.stringify(state));
}

/**
 * Reads and validates the state; undefined when none was saved.
 * @throws PatternValidationError naming the file and the first invalid field when it is corrupt
 */
export async function readAgentLearning(dir: string): Promise<AgentLearningState | undefined> {
  const file = agentLearningPath(dir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new PatternValidationError(`${file} is not JSON: ${(error as Error).message}`, { field: file });
  }
  const parsed = agentLearningSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new PatternValidationError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      field: `${file}:${issue.path.join('.')}`,
    });
  }
  return parsed.data;
}
