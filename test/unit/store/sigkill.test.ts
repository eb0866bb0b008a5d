import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FileRunStore } from '../../../src/store/FileRunStore.js';

const child = fileURLToPath(new URL('./fixtures/appendLoop.ts', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs the append loop in a real process, SIGKILLs it after `acks` acknowledged appends. */
async function killMidLoop(dir: string, acks: number): Promise<Map<string, number>> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acked = new Map<string, number>();
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let buffered = '';
  let count = 0;
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    proc.on('exit', (_code, signal) => resolve(signal)),
  );
  proc.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const [word, runId, seq] = line.split(' ');
      if (word !== 'ack') continue;
      acked.set(runId!, Number(seq));
      count += 1;
      if (count === acks) proc.kill('SIGKILL');
    }
  });
  const signal = await exited;
  if (signal !== 'SIGKILL') throw new Error(`append loop exited before the kill: ${signal} ${stderr}`);
  return acked;
}

describe('FileRunStore survives SIGKILL', () => {
  it('keeps every acknowledged append of a process killed mid-loop, twice over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nd-sigkill-'));
    dirs.push(dir);
    for (const acks of [150, 311]) {
      const acked = await killMidLoop(dir, acks);
      expect(acked.size).toBe(3);
      const store = await FileRunStore.open({ dir });
      for (const [runId, seq] of acked) {
        const entries = await store.read(runId);
        // all acknowledged facts are there, gapless, perhaps with later unacknowledged ones
        expect(entries.length).toBeGreaterThanOrEqual(seq);
        expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
      }
      // next round appends to fresh runs: clean the old ones out of the way
      await store.close();
      rmSync(join(dir, 'runs'), { recursive: true });
    }
  });
});
