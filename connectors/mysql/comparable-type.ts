import type { ColumnSchema } from '../../topology/change-event.ts';
import { integerRange, type ComparableType } from '../sql/column-type.ts';
import { columnSchema } from './column-types.ts';

const INTEGER_BYTES: Record<string, 1 | 2 | 3 | 4 | 8> = { tinyint: 1, bool: 1, boolean: 1, smallint: 2, mediumint: 3, int: 4, integer: 4, bigint: 8 };
/** Characters the TEXT types surely hold (their bytes, at up to 4 bytes a character); JSON is a LONGTEXT in MariaDB. */
const TEXT_CHARACTERS: Record<string, number> = { tinytext: 63, text: 16_383, mediumtext: 4_194_303, longtext: 1_073_741_823, json: 1_073_741_823 };
const BLOB_BYTES: Record<string, number> = { tinyblob: 255, blob: 65_535, mediumblob: 16_777_215, longblob: 4_294_967_295 };

/** A MySQL/MariaDB column type (information_schema's COLUMN_TYPE, or the sink's own spelling) as the widening rule compares it. */
export function mysqlComparableType(sqlType: string): ComparableType {
  return comparableColumn(columnSchema({ name: '', columnType: sqlType.trim(), nullable: true, charset: null }));
}

function comparableColumn(column: ColumnSchema): ComparableType {
  const { type } = column;
  const bytes = INTEGER_BYTES[type];
  if (bytes !== undefined) return integerRange(bytes, column.unsigned === true);
  switch (type) {
    case 'decimal':
    case 'numeric':
    case 'dec':
    case 'fixed':
      return { kind: 'decimal', precision: column.precision ?? 10, scale: column.scale ?? 0 };
    case 'float':
      return { kind: 'float', bits: 32 };
    case 'double':
    case 'real':
      return { kind: 'float', bits: 64 };
    case 'char':
    case 'varchar':
      return { kind: 'text', length: column.length ?? 1, form: type === 'char' ? 'fixed' : 'variable' };
    case 'binary':
    case 'varbinary':
      return { kind: 'bytes', length: column.length ?? 1, form: type === 'binary' ? 'fixed' : 'variable' };
    case 'enum':
    case 'set':
      return { kind: 'members', set: type === 'set', values: column.values ?? [] };
  }
  if (TEXT_CHARACTERS[type] !== undefined) return { kind: 'text', length: TEXT_CHARACTERS[type], form: 'lob' };
  if (BLOB_BYTES[type] !== undefined) return { kind: 'bytes', length: BLOB_BYTES[type], form: 'lob' };
  const width = column.length ?? column.precision;
  return { kind: 'other', name: width === undefined ? type : `${type}(${width})` };
}
