#!/usr/bin/env node
// A command agent of the project-check workflow. `node tool.mjs <tool>` reads the task JSON
// (see docs/workflow.md, "command agents") from stdin, runs one real tool on the target
// directory and prints a JSON summary on stdout. A failing tool exits non-zero with its
// output on stderr, so the step fails with the tail of it.
//
// Target directory: the run input's `dir`, resolved against the directory ndf was started
// from (NDF_CWD); default: this repository.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const tool = process.argv[2];
const task = JSON.parse(readFileSync(0, 'utf8'));
const runInput = task.input?.runInput ?? {};
const params = task.input?.params ?? {};
const dir = path.resolve(process.env.NDF_CWD ?? process.cwd(), runInput.dir ?? REPO);

function fail(message, code = 1) {
  process.stderr.write(`${message.trim()}\n`);
  process.exit(code);
}

/** Runs a tool synchronously in the target directory. */
function run(file, args, options = {}) {
  const started = Date.now();
  const result = spawnSync(file, args, {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  if (result.error) fail(`${file}: ${result.error.message}`);
  return { ...result, ms: Date.now() - started };
}

const bin = (pkg, rel) => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), rel);

const tools = {
  typecheck() {
    const r = run(process.execPath, [bin('typescript', 'bin/tsc'), '--noEmit', '-p', dir]);
    const errors = (r.stdout.match(/error TS\d+/g) ?? []).length;
    if (r.status !== 0)
      fail(`tsc found ${errors} error(s) in ${dir}\n${r.stdout.split('\n').slice(0, 20).join('\n')}`);
    return { tool: 'tsc --noEmit', dir, errors, ms: r.ms };
  },
  lint() {
    const paths = Array.isArray(params.paths) ? params.paths.map(String) : ['.'];
    // The fixture has its own eslint.config.js; eslint looks for it from the current directory.
    const r = run(process.execPath, [bin('eslint', 'bin/eslint.js'), '--format', 'json', ...paths]);
    let report = [];
    try {
      report = JSON.parse(r.stdout);
    } catch {
      fail(`eslint did not produce a report:\n${r.stderr}`);
    }
    const errors = report.reduce((n, f) => n + f.errorCount, 0);
    const warnings = report.reduce((n, f) => n + f.warningCount, 0);
    if (errors > 0) {
      const first = report.flatMap((f) =>
        f.messages.map((m) => `${path.relative(dir, f.filePath)}:${m.line} ${m.message}`),
      );
      fail(`eslint: ${errors} error(s)\n${first.slice(0, 10).join('\n')}`);
    }
    return { tool: 'eslint', dir, files: report.length, errors, warnings, ms: r.ms };
  },
  tests() {
    const filters = Array.isArray(params.filters) ? params.filters.map(String) : [];
    const r = run(process.execPath, [
      bin('vitest', 'vitest.mjs'),
      'run',
      '--root',
      dir,
      '--reporter=json',
      ...filters,
    ]);
    const start = r.stdout.indexOf('{');
    let report;
    try {
      report = JSON.parse(r.stdout.slice(start));
    } catch {
      fail(`vitest did not produce a report (exit ${r.status}):\n${r.stderr.slice(-1500)}`);
    }
    const summary = {
      passed: report.numPassedTests,
      failed: report.numFailedTests,
      total: report.numTotalTests,
    };
    if (r.status !== 0 || summary.failed > 0)
      fail(`vitest: ${summary.failed} of ${summary.total} test(s) failed`);
    return { tool: 'vitest run', dir, ...summary, ms: r.ms };
  },
  pack() {
    // Simulates a transient failure (e.g. a registry hiccup) on the first `flakyAttempts` attempts.
    const flaky = Number(params.flakyAttempts ?? 0);
    if (task.attempt <= flaky)
      fail(`npm pack: simulated transient failure on attempt ${task.attempt} of the flaky step`, 75);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts']);
    if (r.status !== 0) fail(`npm pack --dry-run failed:\n${r.stderr}`);
    const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')));
    return {
      tool: 'npm pack --dry-run',
      dir,
      name: info.name,
      files: info.entryCount,
      bytes: info.unpackedSize,
      ms: r.ms,
    };
  },
  async upload() {
    // Posts a result to a dashboard; by default one that is down, so the circuit breaker opens.
    const url = String(params.url ?? 'http://127.0.0.1:9/results');
    const about = String(params.about ?? task.step);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ about, result: task.input.results[about] ?? null }),
        signal: AbortSignal.timeout(2000),
      });
      if (!response.ok) fail(`dashboard ${url} answered ${response.status}`);
      return { uploaded: about, url };
    } catch (error) {
      fail(`dashboard ${url} unreachable: ${error.cause?.code ?? error.message}`);
    }
  },
};

const action = tools[tool];
if (!action) fail(`unknown tool "${tool}" (known: ${Object.keys(tools).join(', ')})`, 2);
process.stdout.write(`${JSON.stringify(await action())}\n`);
