import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/actors/agent.js';
import { InspectorServer, registrySpecs, stepKey } from '../../src/inspector/index.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../src/runtime/patterns/index.js';
import type { RunResult } from '../../src/core/result.js';

/**
 * The inspector in a real browser: Debian's Chromium driven by playwright-core (no browser
 * download). A run whose agents wait on latches the test opens: the page must show each step's
 * state change as it happens, the failed step's error, the rollback, and outputs on demand.
 */

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Where the screenshot goes (ignored by git). */
const OUTPUT_DIR = path.resolve(import.meta.dirname, '../../test-results/inspector');
const WAIT_MS = 10_000;

/** A promise the test resolves or rejects from outside. */
function latch<T>() {
  let open!: (value: T) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const row = (key: string) => `#steps tr[data-key='${key}']`;
const EXTRACT = stepKey(['etl'], 'extract');
const TRANSFORM = stepKey(['etl'], 'transform');

async function statusOf(page: Page, key: string, status: string): Promise<void> {
  await page.waitForSelector(`${row(key)}[data-status='${status}']`, { timeout: WAIT_MS });
}

describe('inspector page in Chromium', () => {
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}: the inspector's browser test needs it. Install it with ` +
          '`apt-get install -y chromium` (.ci/run does), or set CHROMIUM_PATH to a Chromium binary.',
      );
    profile = mkdtempSync(path.join(tmpdir(), 'nd-inspector-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1100 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows step states change live, the failed step with its error, the rollback and outputs', async () => {
    const extract = latch<{ rows: number }>();
    const transform = latch<never>();
    const compensated: string[] = [];
    const registry = new PatternRegistry();
    registry.registerPattern(
      new SequentialDelegationPattern({
        name: 'etl',
        description: 'extract then transform',
        steps: [
          { name: 'extract', capability: 'extract' },
          { name: 'transform', capability: 'transform', retry: { maxAttempts: 1 } },
        ],
      }),
    );
    const executor = new PatternExecutor(registry, {
      breaker: { failureThreshold: 1, recoveryTimeoutMs: 60_000 },
      agents: [
        defineAgent({
          id: 'reader',
          capabilities: ['extract'],
          handler: () => extract.promise,
          compensate: (task) => void compensated.push(task.step),
        }),
        defineAgent({ id: 'mapper', capabilities: ['transform'], handler: () => transform.promise }),
      ],
    });
    const inspector = await InspectorServer.start({ patterns: registrySpecs(registry) });
    inspector.watch(executor);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await page.goto(inspector.url);
      await page.waitForSelector("#connection[data-state='live']", { timeout: WAIT_MS });
      const running = executor.run('etl', {}, { runId: 'run-1' });

      await statusOf(page, EXTRACT, 'running');
      expect(await page.locator(`${row(EXTRACT)} td.agent`).textContent()).toBe('reader');
      await page.waitForSelector(`#diagram g.node[data-step='${EXTRACT}'][data-status='running']`, {
        timeout: WAIT_MS,
      });
      expect(await page.locator(`${row(TRANSFORM)}`).count()).toBe(0);
      expect(await page.locator("#diagram g.node[data-end='succeeded']").getAttribute('data-status')).toBe(
        'pending',
      );

      extract.open({ rows: 3 });
      await statusOf(page, TRANSFORM, 'running');
      expect(await page.locator(`${row(EXTRACT)}`).getAttribute('data-status')).toBe('completed');
      expect(await page.locator(`${row(TRANSFORM)} td.agent`).textContent()).toBe('mapper');
      mkdirSync(OUTPUT_DIR, { recursive: true });
      await page.screenshot({ path: path.join(OUTPUT_DIR, 'inspector-running.png'), fullPage: true });

      transform.fail(new Error('disk full on /data'));
      await statusOf(page, TRANSFORM, 'failed');
      expect(await page.locator(`${row(TRANSFORM)} td.error`).textContent()).toContain('disk full on /data');
      await statusOf(page, EXTRACT, 'compensated');
      await page.waitForSelector("#run-status[data-status='rolledBack']", { timeout: WAIT_MS });
      const end = (outcome: string) =>
        page.locator(`#diagram g.node[data-end='${outcome}']`).getAttribute('data-status');
      await page.waitForSelector("#diagram g.node[data-end='rolledBack'][data-status='rolledBack']", {
        timeout: WAIT_MS,
      });
      expect([await end('succeeded'), await end('failed')]).toEqual(['pending', 'pending']);
      expect(
        await page.locator(`#diagram g.node[data-step='${TRANSFORM}']`).first().getAttribute('data-status'),
      ).toBe('failed');

      await page.waitForSelector("#breakers tr[data-agent='mapper'] td.state", { timeout: WAIT_MS });
      expect(await page.locator("#breakers tr[data-agent='mapper'] td.state").textContent()).toBe('open');
      expect(await page.locator('#breakers tbody tr').count()).toBe(1);

      const result: RunResult = await running;
      expect(result.status).toBe('rolledBack');
      expect(compensated).toEqual(['extract']);
      inspector.record(result);
      await page.locator(`${row(EXTRACT)} td.output button`).click({ timeout: WAIT_MS });
      await page.waitForSelector('pre.output', { timeout: WAIT_MS });
      expect(JSON.parse((await page.locator('pre.output').textContent()) ?? '')).toEqual({ rows: 3 });
      expect(await page.locator('#log li').count()).toBeGreaterThanOrEqual(7);

      const shot = path.join(OUTPUT_DIR, 'inspector-rolled-back.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
      await inspector.close();
      await executor.close();
    }
  });
});
