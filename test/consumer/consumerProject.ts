/**
 * A consumer project of the packed package: `npm pack` of this checkout (which builds on
 * `prepack`), installed from the tarball into a temporary project with no dev dependencies,
 * as a user's `npm install natural-delegation` would. Shared by the consumer smoke test and
 * the import-time bench (bench/importTime.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface ConsumerProject {
  /** The consumer project's directory (has package.json and node_modules). */
  dir: string;
  /** The tarball `npm pack` wrote. */
  tarball: string;
  /** Removes the temporary directories. */
  remove(): Promise<void>;
}

/** Runs npm with `args` in `cwd`; resolves with its stdout; rejects with its stderr on failure. */
export async function npm(args: string[], cwd: string, timeoutMs = 120_000): Promise<string> {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** Packs this checkout (building it on `prepack`) and installs the tarball into a new project. */
export async function createConsumerProject(): Promise<ConsumerProject> {
  const work = await mkdtemp(path.join(tmpdir(), 'nd-consumer-'));
  const remove = () => rm(work, { recursive: true, force: true });
  try {
    const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', work], repoRoot)) as {
      filename: string;
    }[];
    const tarball = path.join(work, packed[0]!.filename);
    const dir = path.join(work, 'app');
    await run('mkdir', [dir]);
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'nd-consumer', version: '1.0.0', private: true, type: 'module' }),
    );
    // --engine-strict: a dependency whose `engines` refuses this node fails the install
    await npm(
      ['install', '--omit=dev', '--no-package-lock', '--engine-strict', '--prefer-offline', tarball],
      dir,
    );
    return { dir, tarball, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** An installed package: its name, version and the node versions it declares it supports. */
export interface InstalledPackage {
  name: string;
  version: string;
  /** `engines.node` of its package.json, when it has one. */
  node?: string;
}

/** Packages installed under `dir/node_modules` (scoped and nested ones included). */
export async function installedPackages(dir: string): Promise<InstalledPackage[]> {
  const found: InstalledPackage[] = [];
  const walk = async (modules: string, scoped: boolean): Promise<void> => {
    const entries = await readdir(modules, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const where = path.join(modules, entry.name);
      if (entry.name.startsWith('@') && !scoped) {
        await walk(where, true);
        continue;
      }
      const manifest = JSON.parse(await readFile(path.join(where, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
        engines?: { node?: string };
      };
      found.push({
        name: manifest.name,
        version: manifest.version,
        ...(manifest.engines?.node ? { node: manifest.engines.node } : {}),
      });
      await walk(path.join(where, 'node_modules'), false);
    }
  };
  await walk(path.join(dir, 'node_modules'), false);
  return found;
}

/** Bytes of the files under `dir` (apparent sizes). */
export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const hooks = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(file, result.url + '\\n');
  return result;
}`;

/**
 * Imports `specifier` with plain node in `dir` and returns every file URL the module loader
 * resolved for it (ES modules, through a resolve hook) and every CommonJS module it required.
 */
export async function loadedModules(dir: string, specifier: string): Promise<string[]> {
  const log = path.join(dir, `.loaded-${process.pid}-${Date.now()}.txt`);
  const script = `
import { register, createRequire } from 'node:module';
import { readFileSync, rmSync } from 'node:fs';
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)}, { data: { file: ${JSON.stringify(log)} } });
await import(${JSON.stringify(specifier)});
const urls = new Set(readFileSync(${JSON.stringify(log)}, 'utf8').split('\\n').filter(Boolean));
rmSync(${JSON.stringify(log)});
for (const file of Object.keys(createRequire(import.meta.url).cache)) urls.add('file://' + file);
process.stdout.write(JSON.stringify([...urls].filter((u) => u.startsWith('file:'))));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
  return JSON.parse(stdout) as string[];
}

/** The packages (`name` or `@scope/name`) among module URLs, from their last node_modules segment. */
export function packagesOf(urls: readonly string[]): string[] {
  const names = new Set<string>();
  for (const url of urls) {
    const match = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (match?.[1]) names.add(match[1]);
  }
  return [...names].sort();
}

/**
 * Milliseconds `await import(specifier)` takes in a fresh plain-node process started in `dir`
 * (measured inside the process with performance.now(), so node's own start-up is not counted).
 */
export async function importTimeMs(dir: string, specifier: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
  return Number(stdout);
}
