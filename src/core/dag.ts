/**
 * Finds a dependency cycle among tasks (`dependsOn` edges), by depth-first search with
 * three colours (Cormen et al., "Introduction to Algorithms", §22.3). Returns the cycle as a
 * path that starts and ends with the same task (`['a', 'b', 'a']`), or undefined.
 */
export function findCycle(
  tasks: readonly { name: string; dependsOn: readonly string[] }[],
): string[] | undefined {
  const deps = new Map(tasks.map((t) => [t.name, t.dependsOn]));
  const colour = new Map<string, 'grey' | 'black'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    colour.set(name, 'grey');
    stack.push(name);
    for (const next of deps.get(name) ?? []) {
      const c = colour.get(next);
      if (c === 'grey') return [...stack.slice(stack.indexOf(next)), next];
      if (c === undefined && deps.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    colour.set(name, 'black');
    return undefined;
  };
  for (const t of tasks) {
    if (!colour.has(t.name)) {
      const found = visit(t.name);
      if (found) return found;
    }
  }
  return undefined;
}
