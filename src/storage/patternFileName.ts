import { createHash } from 'node:crypto';

/** Encoded stems longer than this are shortened to a prefix plus a hash (file names cap at 255 bytes). */
const MAX_STEM = 160;
const KEEP = /^[a-z0-9_-]$/;
const UPPER = /^[A-Z]$/;

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

/**
 * Turns a pattern name into a file-name stem that is safe on every file system and cannot
 * escape its directory.
 *
 * - `a-z`, `0-9`, `_` and `-` are kept; an upper-case letter becomes `^` plus the letter in
 *   lower case (`MyFlow` → `^my^flow`), so two names never differ only by case on disk
 *   (macOS and Windows fold case);
 * - every other UTF-16 code unit becomes `%XX` (below 0x100) or `%uXXXX`, so `.`, `/`, `\`
 *   and NUL never reach the file system: `../x` → `%2E%2E%2Fx`;
 * - a stem longer than 160 characters becomes its first 120 characters, `~`, and 40 hex
 *   digits of the SHA-256 of the name's UTF-16 code units (`~` never appears otherwise).
 *
 * The mapping is injective, also after case folding, and the stem never contains `.`, so
 * `<stem>.json` and `<stem>.<ms>.json` can be split at the first dot.
 *
 * @param name - a pattern name, at least one character.
 * @returns the stem, without extension.
 * @example
 * ```ts
 * patternFileStem('data_pipeline'); // 'data_pipeline'
 * patternFileStem('../etc/passwd'); // '%2E%2E%2Fetc%2Fpasswd'
 * ```
 */
export function patternFileStem(name: string): string {
  let stem = '';
  for (let i = 0; i < name.length; i += 1) {
    const ch = name.charAt(i);
    const code = name.charCodeAt(i);
    if (KEEP.test(ch)) stem += ch;
    else if (UPPER.test(ch)) stem += `^${ch.toLowerCase()}`;
    else stem += code < 0x100 ? `%${hex(code, 2)}` : `%u${hex(code, 4)}`;
  }
  if (stem.length <= MAX_STEM) return stem;
  const digest = createHash('sha256').update(name, 'utf16le').digest('hex').slice(0, 40);
  return `${stem.slice(0, 120)}~${digest}`;
}
