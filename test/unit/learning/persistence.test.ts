import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defineAgent } from '../../../src/actors/agent.js';
import { isPatternValidationError } from '../../../src/core/errors.js';
import { seededRandom } from '../../../src/learning/random.js';
import { LearningConfig } from '../../../src/runtime/LearningConfig.js';
import { PatternConfig } from '../../../src/runtime/PatternConfig.js';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';
import { PatternStorage } from '../../../src/runtime/PatternStorage.js';
import { SequentialDelegationPattern } from '../../../src/runtime/patterns/index.js';

const dirs: string[] = [];
afterEach(() => {
  PatternConfig.reset();
  LearningConfig.reset();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function executor(seed: number) {
  const registry = new PatternRegistry();
  const ex = new PatternExecutor(registry, {
    random: seededRandom(seed),
    agents: [
      defineAgent({ id: 'good', capabilities: ['work'], handler: () => 'ok' }),
      defineAgent({
        id: 'bad',
        capabilities: ['work'],
        handler: () => {
          throw new Error('bad');
        },
      }),
    ],
  });
  registry.registerPattern(new SequentialDelegationPattern({ name: 'p', steps: ['work'] }));
  return ex;
}

describe('agent learning persistence', () => {
  it('saves and reloads the agent learning in the same store directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-learn-'));
    dirs.push(dir);
    const first = executor(1);
    for (let i = 0; i < 30; i++) await first.run('p', { domain: 'shop' });
    const storage = new PatternStorage({ storagePath: dir });
    await storage.saveAgentLearning(first);
    const before = first.agentLearning('work')!.summary('good');

    const second = executor(2);
    expect(second.agentLearning('work')!.summary('good')).toEqual([]);
    expect(await new PatternStorage({ storagePath: dir }).loadAgentLearning(second)).toBe(true);
    expect(second.agentLearning('work')!.summary('good')).toEqual(before);
    const exported = JSON.parse(await storage.exportAgentLearning()) as {
      capabilities: Record<string, { arms: Record<string, unknown[]> }>;
    };
    expect(
      (exported.capabilities.work!.arms.good?.length ?? 0) +
        (exported.capabilities.work!.arms.bad?.length ?? 0),
    ).toBe(30);
    await first.close();
    await second.close();
  });

  it('reports a missing file as false and a corrupt one by file and field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-learn-'));
    dirs.push(dir);
    const ex = executor(1);
    const storage = new PatternStorage({ storagePath: dir });
    expect(await storage.loadAgentLearning(ex)).toBe(false);
    mkdirSync(join(dir, 'learning'));
    writeFileSync(
      join(dir, 'learning', 'agents.json'),
      JSON.stringify({ version: 1, capabilities: { work: { version: 2 } } }),
    );
    let error: unknown;
    try {
      await storage.loadAgentLearning(ex);
    } catch (e) {
      error = e;
    }
    expect(isPatternValidationError(error)).toBe(true);
    expect((error as Error).message).toMatch(/agents\.json: capabilities\.work\.version/);
    await ex.close();
  });
});
