/**
 * Matches metric names against the globs the SDK's view selectors understand: `*` stands for any
 * run of characters, everything else is literal. Used to decide, at configuration time, which of
 * our own views an allow or deny list keeps.
 */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/** Whether `name` matches any of `globs`. */
export function matchesAny(name: string, globs: readonly string[]): boolean {
  return globs.some((glob) => globToRegExp(glob).test(name));
}
