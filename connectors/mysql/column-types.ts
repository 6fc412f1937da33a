import type { ColumnSchema, Row, TableSchema } from '../../topology/change-event.ts';

/** What information_schema (or a binlog TableMap, which zongji shapes the same way) says about a column. */
export interface ColumnDefinition {
  name: string;
  /** e.g. `decimal(65,30)`, `bigint(20) unsigned`, `enum('a','b')`. */
  columnType: string;
  nullable: boolean;
  charset: string | null;
}

const WIDTH_IS_LENGTH = new Set(['char', 'varchar', 'binary', 'varbinary', 'bit']);
const WIDTH_IS_FRACTION = new Set(['time', 'datetime', 'timestamp']);

/** Parses a column definition into the shared ColumnSchema (type lower case, without width). */
export function columnSchema(definition: ColumnDefinition): ColumnSchema {
  const columnType = definition.columnType.toLowerCase();
  const match = /^([a-z0-9]+)(?:\((.*)\))?(.*)$/s.exec(columnType);
  if (!match) throw new Error(`unrecognised column type ${definition.columnType} of column ${definition.name}`);
  const [, type = '', args, modifiers = ''] = match;
  const column: ColumnSchema = { name: definition.name, type, nullable: definition.nullable };
  if (/\bunsigned\b/.test(modifiers)) column.unsigned = true;
  if (definition.charset !== null) column.charset = definition.charset;
  if (args === undefined) return column;
  if (type === 'enum' || type === 'set') {
    // Quotes inside members are doubled in the definition; the original (not lower-cased) text keeps case.
    const original = definition.columnType.slice(definition.columnType.indexOf('(') + 1, -1);
    column.values = [...original.matchAll(/'((?:[^']|'')*)'/g)].map((member) => member[1]!.replaceAll("''", "'"));
  } else if (type === 'decimal') {
    const [precision, scale] = args.split(',').map(Number);
    column.precision = precision;
    column.scale = scale ?? 0;
  } else if (WIDTH_IS_LENGTH.has(type)) {
    column.length = Number(args);
  } else if (WIDTH_IS_FRACTION.has(type)) {
    column.precision = Number(args);
  }
  return column;
}

/**
 * Turns a row as mysql2 (snapshot) or zongji (binlog) decodes it into the canonical values of
 * topology/change-event.ts, in place: both libraries already give strings for DECIMAL, temporal types
 * and JSON (with the options of connection.ts) and Buffers for BIT/BINARY/BLOB; what is left is
 * - BIGINT: a number or an exact string depending on size → always bigint;
 * - FLOAT: the snapshot reads it widened to DOUBLE and the binlog gives the float32 as a double, so both
 *   become the shortest decimal that is the same float32 (what was inserted, e.g. 0.1 rather than
 *   0.10000000149011612).
 * Returns undefined when the table has no such column, so the hot path skips the call.
 */
export function canonicalRowConverter(schema: TableSchema): ((row: Row) => void) | undefined {
  const bigints = schema.columns.filter((column) => column.type === 'bigint').map((column) => column.name);
  const floats = schema.columns.filter((column) => column.type === 'float').map((column) => column.name);
  if (bigints.length === 0 && floats.length === 0) return undefined;
  return (row) => {
    for (const name of bigints) {
      const value = row[name];
      if (value !== null && value !== undefined && typeof value !== 'bigint') row[name] = BigInt(value as number | string);
    }
    for (const name of floats) {
      const value = row[name];
      if (typeof value === 'number') row[name] = shortestFloat32(value);
    }
  };
}

/** The shortest decimal that rounds to the same float32 as `value`. */
export function shortestFloat32(value: number): number {
  const single = Math.fround(value);
  if (!Number.isFinite(single)) return single;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return single;
}
