/**
 * `npm run bench:import`: what a user installs and how long importing it takes. Packs this
 * checkout, installs the tarball into a temporary project with no dev dependencies, then
 * reports the install (packages, MB), and the median time of `await import(…)` of the root and
 * each subpath next to `import('xstate')`, each in a fresh plain-node process, the specifiers
 * interleaved round by round so all see the same load. `--dir <project>` measures an existing
 * consumer project instead (e.g. one installed from an older tarball); `IMPORT_RUNS` sets the
 * rounds (default 15).
 */
import { cpus, loadavg } from 'node:os';
import Table from 'cli-table3';
import { median } from 'simple-statistics';
import {
  createConsumerProject,
  directoryBytes,
  importTimeMs,
  installedPackages,
  loadedModules,
  packagesOf,
} from '../test/consumer/consumerProject.js';

const specifiers = [
  'xstate',
  'natural-delegation',
  'natural-delegation/machines',
  'natural-delegation/protocol',
  'natural-delegation/resolver',
  'natural-delegation/testing',
  'natural-delegation/diagram',
  'natural-delegation/nats',
];
const runs = Number(process.env['IMPORT_RUNS'] ?? 15);
const dirFlag = process.argv.indexOf('--dir');
const given = dirFlag >= 0 ? process.argv[dirFlag + 1] : undefined;
const project = given ? { dir: given, remove: async () => undefined } : await createConsumerProject();
try {
  const packages = await installedPackages(project.dir);
  const mb = (await directoryBytes(`${project.dir}/node_modules`)) / 1e6;
  console.log(`consumer install: ${packages.length} packages, ${mb.toFixed(1)} MB in node_modules`);

  const times = new Map<string, number[]>(specifiers.map((s) => [s, []]));
  for (let round = 0; round < runs; round++) {
    for (const specifier of specifiers) {
      times.get(specifier)!.push(await importTimeMs(project.dir, specifier).catch(() => Number.NaN));
    }
  }
  const table = new Table({
    head: ['import', 'median ms', 'min ms', 'vs xstate', 'third-party packages loaded'],
    style: { head: [], border: [] },
  });
  const xstate = median(times.get('xstate')!);
  for (const specifier of specifiers) {
    const ms = times.get(specifier)!.filter(Number.isFinite);
    if (ms.length === 0) {
      table.push([specifier, 'fails', '', '', '']);
      continue;
    }
    const loaded = packagesOf(await loadedModules(project.dir, specifier)).filter(
      (name) => name !== 'natural-delegation',
    );
    table.push([
      specifier,
      median(ms).toFixed(1),
      Math.min(...ms).toFixed(1),
      `${(median(ms) / xstate).toFixed(1)}×`,
      loaded.join(' '),
    ]);
  }
  console.log(table.toString());
  console.log(
    `node ${process.version}, ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1) ?? '?'}; ${runs} fresh processes per import`,
  );
} finally {
  await project.remove();
}
