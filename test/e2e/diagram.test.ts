import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tempDir.js';
import { ndf } from './cli.js';

describe.concurrent('ndf diagram --out', () => {
  it('refuses a PNG with exit 2 and writes nothing', async () => {
    const file = path.join(tempDir('ndf-diagram-'), 'x.png');
    const result = await ndf(['diagram', 'step', '-o', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--out ${file}: PNG is not supported; write .svg`);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses an extension it cannot map without --format, accepts it with one', async () => {
    const file = path.join(tempDir('ndf-diagram-'), 'x.txt');
    const guess = await ndf(['diagram', 'step', '-o', file]);
    expect(guess.code).toBe(2);
    expect(guess.stderr).toContain(`cannot tell the format from ".txt"`);
    const told = await ndf(['diagram', 'step', '-f', 'mermaid', '-o', file]);
    expect(told.code).toBe(0);
    expect(await readFile(file, 'utf8')).toMatch(/^title: "step machine"\n---\nstateDiagram-v2/m);
  });

  it('writes SVG for .svg', async () => {
    const file = path.join(tempDir('ndf-diagram-'), 'x.svg');
    const result = await ndf(['diagram', 'step', '-o', file]);
    expect(result.code).toBe(0);
    expect(await readFile(file, 'utf8')).toContain('<svg');
  });
});
