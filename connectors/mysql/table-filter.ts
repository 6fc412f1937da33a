/** Schemas that are never captured: the server's own. */
const SYSTEM_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

/**
 * Which tables a source captures: `db.table` globs (`*` any run of characters, `?` one character).
 * No include patterns means every table outside the system schemas; exclude wins over include.
 */
export class TableFilter {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];
  /** Decisions by `db.table`: the binlog asks for the same few tables millions of times. */
  private readonly decided = new Map<string, boolean>();

  constructor(include: readonly string[] = [], exclude: readonly string[] = []) {
    this.include = include.map(globToRegExp);
    this.exclude = exclude.map(globToRegExp);
  }

  captures(db: string, table: string): boolean {
    const name = `${db}.${table}`;
    let decision = this.decided.get(name);
    if (decision === undefined) {
      decision =
        !SYSTEM_DATABASES.has(db.toLowerCase()) &&
        (this.include.length === 0 || this.include.some((pattern) => pattern.test(name))) &&
        !this.exclude.some((pattern) => pattern.test(name));
      this.decided.set(name, decision);
    }
    return decision;
  }
}

function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${source}$`);
}
