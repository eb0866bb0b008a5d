/**
 * The chaos harness: SIGKILLs `ndf run` at random points of a run (by the journal's progress,
 * plus a random delay), sometimes tears the journal's last record as a kill mid-write would, and
 * runs the same command again until it exits; then checks the run against its agents' own
 * side-effect log.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NDF_BIN } from './cli.js';

/** A seeded uniform [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A journal entry as the harness reads it (whole lines only). */
export interface Fact {
  kind: string;
  step?: string;
  result?: {
    status: string;
    steps: { name: string; status: string; attempts: number; output?: unknown; compensation: string }[];
  };
}

/** The whole records of a journal file (a torn last line is ignored, as the store does). */
export function readJournal(file: string): Fact[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a torn record
  return lines.map((l) => JSON.parse(l.slice(9)) as Fact);
}

/** One side effect an agent logged. */
export interface Effect {
  what: 'do' | 'undo';
  step: string;
  key: string;
}

export function readEffects(file: string): Effect[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [what, step, key] = l.split(' ');
      return { what: what as Effect['what'], step: step!, key: key! };
    });
}

/** What the harness saw at one kill. */
export interface Kill {
  /** Side effects logged before the kill. */
  effects: number;
  /** Steps whose completion (and compensations whose completion) the journal held after the kill. */
  completed: Set<string>;
  compensated: Set<string>;
  torn: boolean;
}

/** How one campaign went: its kills and the exit code of the run that finished it. */
export interface Campaign {
  kills: Kill[];
  code: number | null;
  journal: Fact[];
}

/** Starts `ndf run` and resolves with its exit code, killing it (SIGKILL) once `killWhen` says so. */
function runOnce(
  args: string[],
  env: NodeJS.ProcessEnv,
  killWhen: (() => boolean) | undefined,
  delayMs: number,
): Promise<{ code: number | null; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [NDF_BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    let killed = false;
    const poll = killWhen
      ? setInterval(() => {
          if (killed || !killWhen()) return;
          killed = true;
          clearInterval(poll);
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        }, 2)
      : undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(guard);
      if (signal === 'SIGKILL' && !killed) reject(new Error(`ndf run hung: ${stderr}`));
      else if (code !== null && code > 1) reject(new Error(`ndf run exited ${code}: ${stderr}`));
      else resolve({ code, killed: signal === 'SIGKILL' });
    });
  });
}

/**
 * One run, killed again and again: each time at a random journal length past where it stands
 * (then after a random 0–40 ms), a third of the time with its last record torn; until a run
 * exits by itself.
 */
export async function campaign(options: {
  workflow: string;
  runId: string;
  store: string;
  log: string;
  fail: string | undefined;
  random: () => number;
  /** Journal records of a whole run (the kill targets are drawn below it). */
  expectedRecords: number;
  maxKills: number;
}): Promise<Campaign> {
  const { workflow, runId, store, log, random } = options;
  const journalFile = path.join(store, 'runs', `${runId}.ndj`);
  const env = {
    ...process.env,
    NO_COLOR: '1',
    NDF_STORE: store,
    CHAOS_LOG: log,
    ...(options.fail ? { CHAOS_FAIL: options.fail } : {}),
  };
  const args = ['run', workflow, '--run-id', runId, '--no-progress'];
  const kills: Kill[] = [];
  for (;;) {
    const now = readJournal(journalFile).length;
    const wantKill = kills.length < options.maxKills && now < options.expectedRecords;
    const target = now + 1 + Math.floor(random() * Math.max(1, options.expectedRecords - now));
    const lines = () =>
      existsSync(journalFile) ? readFileSync(journalFile, 'utf8').split('\n').length - 1 : 0;
    const { code, killed } = await runOnce(
      args,
      env,
      wantKill ? () => lines() >= target : undefined,
      Math.floor(random() * 40),
    );
    if (!killed) return { kills, code, journal: readJournal(journalFile) };
    const torn = random() < 1 / 3 && tear(journalFile, random);
    const journal = readJournal(journalFile);
    kills.push({
      effects: readEffects(log).length,
      completed: new Set(journal.filter((f) => f.kind === 'stepCompleted').map((f) => f.step!)),
      compensated: new Set(journal.filter((f) => f.kind === 'compensationCompleted').map((f) => f.step!)),
      torn,
    });
  }
}

/** Cuts the journal inside its last record (a kill in the middle of its write); true if it did. */
function tear(file: string, random: () => number): boolean {
  if (!existsSync(file)) return false;
  const bytes = readFileSync(file);
  const end = bytes.length - 1; // the last record's newline
  const start = bytes.lastIndexOf(0x0a, end - 1) + 1;
  if (end - start < 2 || start === 0) return false; // keep runStarted whole: the run was acknowledged
  const cut = start + 1 + Math.floor(random() * (end - start - 1));
  truncateSync(file, cut);
  return statSync(file).size === cut;
}

/** Copies the chaos workflow (running `pattern`) and its agent into `dir`; the workflow's path. */
export function workflowFor(fixtures: string, dir: string, pattern: string): string {
  copyFileSync(path.join(fixtures, 'agent.sh'), path.join(dir, 'agent.sh'));
  const file = path.join(dir, `${pattern}.yaml`);
  const text = readFileSync(path.join(fixtures, 'workflow.yaml'), 'utf8');
  writeFileSync(file, text.replace('pattern: seq', `pattern: ${pattern}`));
  return file;
}
