import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { workflowJsonSchema } from '../workflow/schema.js';

/** `ndf schema`: prints (or writes) the JSON Schema of workflow files. */
export function schemaCommand(): Command {
  return new Command('schema')
    .description('print the JSON Schema of workflow files (for editors)')
    .option('-o, --out <file>', 'write it to a file instead of stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ npx ndf schema --out docs/workflow.schema.json
  # then, first line of a YAML workflow, for editors with the YAML language server:
  # yaml-language-server: $schema=../../docs/workflow.schema.json`,
    )
    .action((options: { out?: string }) => {
      const text = `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`;
      if (!options.out) return void process.stdout.write(text);
      mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
      writeFileSync(options.out, text);
    });
}
