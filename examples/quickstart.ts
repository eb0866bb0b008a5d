/**
 * The user guide's quick start, in TypeScript: register a sequential pattern, give it agents,
 * execute it, and print each step's result. Run with `npx tsx examples/quickstart.ts`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PatternExecutor,
  PatternRegistry,
  PatternStorage,
  SequentialDelegationPattern,
  defineAgent,
} from '../src/index.js';

// 1. Initialize the system (storage goes to a temporary directory, removed at the end).
const registry = new PatternRegistry();
const executor = new PatternExecutor(registry);
const storage = new PatternStorage({ storagePath: await mkdtemp(join(tmpdir(), 'nd-quickstart-')) });

// Agents: local functions with capabilities. Each step is delegated to an agent that has the step's capability.
const records = [
  { id: 1, value: ' 42 ' },
  { id: 2, value: '7' },
  { id: 3, value: 'x' },
];
executor.registerAgent(
  defineAgent({
    id: 'validator',
    capabilities: ['validate'],
    handler: () => {
      const valid = records.filter((r) => /^\s*\d+\s*$/.test(r.value));
      return { valid: valid.length, rejected: records.length - valid.length };
    },
  }),
);
executor.registerAgent(
  defineAgent({
    id: 'processor',
    capabilities: ['process', 'finalize'],
    handler: ({ step, input }) =>
      step === 'process'
        ? {
            total: records
              .filter((r) => /^\s*\d+\s*$/.test(r.value))
              .reduce((s, r) => s + Number(r.value.trim()), 0),
          }
        : {
            summary: `validated ${JSON.stringify(input.results['validate'])}, processed ${JSON.stringify(input.results['process'])}`,
          },
  }),
);

// 2. Create your first pattern
const pattern = new SequentialDelegationPattern({
  name: 'basic_workflow',
  description: 'Simple sequential task processing',
  steps: ['validate', 'process', 'finalize'],
});

// 3. Register and execute
registry.registerPattern(pattern);
const result = await executor.run('basic_workflow', {
  domain: 'data_processing',
  agentType: 'validator',
  priority: 1,
});

for (const step of result.steps) {
  console.log(
    `${step.name.padEnd(9)} ${step.status.padEnd(10)} agent=${step.agent ?? '-'} attempts=${step.attempts} ${step.durationMs} ms  output=${JSON.stringify(step.output)}`,
  );
}
console.log(
  `basic_workflow ${result.status} in ${result.durationMs} ms; confidence ${pattern.confidenceScore.toFixed(2)} after ${pattern.executionCount} execution(s)`,
);

try {
  await storage.savePattern(pattern);
  const saved = await storage.loadPattern('basic_workflow');
  console.log(
    `saved ${saved.name} to ${storage.storagePath} and loaded it back (${saved.executionCount} execution(s)); the directory is removed on exit`,
  );
} finally {
  await executor.close();
  await rm(storage.storagePath, { recursive: true, force: true });
}
process.exitCode = result.success ? 0 : 1;
