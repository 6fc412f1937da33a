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
export function keyAfterCondition(keyColumns: readonly string[]): KeyCondition {
  return keyOrderCondition(keyColumns, '>', '>');
}

/** "key at or before the given key values", as `a < ? OR (a = ? AND b <= ?)`: the upper end of a key range (a spread snapshot's). */
export function keyUpToCondition(keyColumns: readonly string[]): KeyCondition {
  return keyOrderCondition(keyColumns, '<', '<=');
}

interface KeyCondition {
  sql: string;
  parameters: <T>(values: readonly T[]) => T[];
}

/** The key compared with given values in key order, column by column: `on` for a leading column, `last` for the last. */
function keyOrderCondition(keyColumns: readonly string[], on: '>' | '<', last: '>' | '<='): KeyCondition {
  const alternatives = keyColumns.map((column, index) =>
    [...keyColumns.slice(0, index).map((equal) => `${quoteIdentifier(equal)} = ?`), `${quoteIdentifier(column)} ${index === keyColumns.length - 1 ? last : on} ?`].join(' AND '),
  );
  return {
    sql: alternatives.map((alternative) => `(${alternative})`).join(' OR '),
    parameters: (values) => keyColumns.flatMap((_, index) => values.slice(0, index + 1)),
  };
}

const IDENTIFIER = String.raw`(?:\x60((?:[^\x60]|\x60\x60)+)\x60|([\w$]+))`;
const TRUNCATE = new RegExp(String.raw`^\s*(?:\/\*.*?\*\/\s*)*TRUNCATE\s+(?:TABLE\s+)?${IDENTIFIER}(?:\s*\.\s*${IDENTIFIER})?\s*;?\s*$`, 'is');

/**
 * The table a `TRUNCATE [TABLE] [db.]table` statement empties (as the binlog records it), the database
 * defaulting to the statement's; undefined for any other statement.
 */
export function truncatedTable(query: string, defaultDb: string): { db: string; table: string } | undefined {
  const match = TRUNCATE.exec(query);
  if (!match) return undefined;
  const unquote = (quoted: string | undefined, bare: string | undefined) => (quoted !== undefined ? quoted.replaceAll('``', '`') : bare);
  const first = unquote(match[1], match[2])!;
  const second = unquote(match[3], match[4]);
  return second === undefined ? { db: defaultDb, table: first } : { db: first, table: second };
}
