import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tempDir.js';
import { ROOT } from './cli.js';

describe('examples/quickstart.ts', () => {
  it('runs the pattern, saves and reloads it, and removes its temporary storage', async () => {
    const tmp = tempDir('ndf-quickstart-tmp-');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/quickstart.ts'],
      {
        cwd: ROOT,
        env: { ...process.env, TMPDIR: tmp },
      },
    );
    expect(stdout).toMatch(/^finalize +completed +agent=processor/m);
    expect(stdout).toMatch(
      /saved basic_workflow to .*nd-quickstart-\w+ and loaded it back \(1 execution\(s\)\)/,
    );
    expect((await readdir(tmp)).filter((name) => name.startsWith('nd-quickstart-'))).toEqual([]);
  });
});
