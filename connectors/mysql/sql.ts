/** Quotes an identifier with backticks, doubling any backtick inside it. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

export function quoteTable(db: string, table: string): string {
  return `${quoteIdentifier(db)}.${quoteIdentifier(table)}`;
}

/**
 * The keyset condition "key after the given key values" written as `a > ? OR (a = ? AND b > ?) ...`
 * rather than the row constructor `(a, b) > (?, ?)`: MariaDB scans the whole index for the latter and
 * a range for the former. Returns the condition and how to spread one key's values into its parameters.
 */
export function keyAfterCondition(keyColumns: readonly string[]): { sql: string; parameters: <T>(values: readonly T[]) => T[] } {
  const alternatives = keyColumns.map((column, index) =>
    [...keyColumns.slice(0, index).map((equal) => `${quoteIdentifier(equal)} = ?`), `${quoteIdentifier(column)} > ?`].join(' AND '),
  );
  return {
    sql: alternatives.map((alternative) => `(${alternative})`).join(' OR '),
    parameters: (values) => keyColumns.flatMap((_, index) => values.slice(0, index + 1)),
  };
}
