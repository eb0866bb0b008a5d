import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineAgent } from '../../../src/actors/agent.js';
import { runCli } from '../../../src/cli/program.js';
import { collectStats, statsTable } from '../../../src/cli/commands/stats.js';
import { seededRandom } from '../../../src/learning/random.js';
import { PatternExecutor } from '../../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../../src/runtime/PatternRegistry.js';
import { PatternStorage } from '../../../src/runtime/PatternStorage.js';
import { SequentialDelegationPattern } from '../../../src/runtime/patterns/index.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function store(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'nd-stats-'));
  dirs.push(dir);
  const registry = new PatternRegistry();
  const executor = new PatternExecutor(registry, {
    random: seededRandom(1),
    agents: [defineAgent({ id: 'w', capabilities: ['work'], handler: () => 'ok' })],
  });
  const p = new SequentialDelegationPattern({ name: 'flow', steps: ['work'] });
  registry.registerPattern(p);
  for (let i = 0; i < 6; i++) await executor.run('flow', { domain: 'shop' });
  const storage = new PatternStorage({ storagePath: dir });
  await storage.savePattern(p);
  await storage.saveAgentLearning(executor);
  await executor.close();
  return dir;
}

describe('ndf stats', () => {
  it('collects per pattern and agent, per cell: samples, posterior, level', async () => {
    const dir = await store();
    const rows = await collectStats(dir);
    const pattern = rows.find((r) => r.kind === 'pattern' && r.cell === 'shop|*')!;
    expect(pattern).toMatchObject({
      name: 'flow',
      samples: 6,
      successRate: 1,
      posterior: { alpha: 7, beta: 1 },
    });
    expect(pattern.posteriorMean).toBe(7 / 8);
    // 95% interval lower bound 0.875 − 1.96·sd(Beta(7,1)) = 0.65: MEDIUM.
    expect(pattern.level).toBe('MEDIUM');
    const agent = rows.find((r) => r.kind === 'agent' && r.cell === 'shop|general')!;
    expect(agent).toMatchObject({ name: 'w', capability: 'work', samples: 6 });
    expect(statsTable(rows)).toContain('shop|general');
    expect((await collectStats(dir, 'flow')).every((r) => r.kind === 'pattern')).toBe(true);
  });

  it('prints JSON, and names a pattern that is not stored', async () => {
    const dir = await store();
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    expect(await runCli(['node', 'ndf', 'stats', '--store', dir, '--json'])).toBe(0);
    const rows = JSON.parse(out.join('')) as { kind: string }[];
    expect(rows.map((r) => r.kind)).toContain('agent');
    expect(await runCli(['node', 'ndf', 'stats', '--store', dir, '--pattern', 'nope'])).toBe(2);
    expect(err.join('')).toMatch(/Pattern 'nope' not found/);
  });
});
