/**
 * Imports an optional package; undefined when it is not installed (any other failure, such as a
 * broken install, is thrown). The specifier goes through a variable so bundlers and the type
 * checker leave the import lazy.
 */
export async function importOptional<T>(specifier: string): Promise<T | undefined> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String(error).includes(specifier))
      return undefined;
    throw error;
  }
}
