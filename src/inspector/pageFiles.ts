import { readFile } from 'node:fs/promises';

/** A static file of the page, ready to send. */
export interface PageFile {
  readonly type: string;
  readonly body: Buffer;
}

/** The page's files by URL path: plain HTML, JavaScript and CSS, no build step. */
const FILES: Readonly<Record<string, readonly [file: string, type: string]>> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.css': ['app.css', 'text/css; charset=utf-8'],
};

/**
 * Reads the page (from `page/` beside this module: src/inspector/page, or dist/inspector/page
 * where the build copies it).
 * @throws Error naming the missing file when the page is not there (a build that did not copy it)
 */
export async function loadPage(dir = new URL('./page/', import.meta.url)): Promise<Map<string, PageFile>> {
  const entries = await Promise.all(
    Object.entries(FILES).map(async ([route, [file, type]]) => {
      const url = new URL(file, dir);
      try {
        return [route, { type, body: await readFile(url) }] as const;
      } catch (error) {
        throw new Error(
          `inspector page file missing: ${url.pathname} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        );
      }
    }),
  );
  return new Map(entries);
}
