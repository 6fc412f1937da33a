import type { TableMapEvent } from '@vlasky/zongji';
import type { ColumnSchema } from '../../topology/change-event.ts';

/** Binlog column type codes (the server's enum_field_types) that zongji decodes differently from the snapshot. */
const VARCHAR = 15;
const VARCHAR_COMPRESSED = 141;
const BLOB_TYPES = new Set([140, 249, 250, 251, 252]);
const BLOB = 252;
const VAR_STRING = 253;
const STRING = 254;
const GEOMETRY = 255;
const STRING_TYPES = new Set([VARCHAR, VARCHAR_COMPRESSED, VAR_STRING, STRING, ...BLOB_TYPES]);
/** MariaDB types written to the binlog as BINARY(n): only the column type tells them apart, and zongji then gives their text form. */
const TEXT_FORM_TYPES = new Set(['uuid', 'inet4', 'inet6']);

/**
 * Makes zongji decode a table's next rows events to the values the snapshot reads, by correcting what it
 * derived from the TableMap before it parses them (so: synchronously in the TableMap's handler, or while
 * the binlog connection is paused):
 * - GEOMETRY values are read as their bytes (SRID + WKB, what a SELECT returns) instead of zongji's parsed
 *   points, which drop the SRID and cannot be turned back into the value;
 * - MariaDB's FULL binlog metadata counts GEOMETRY columns among the character columns when it lists their
 *   character sets, and zongji does not: every text column after a GEOMETRY one got the next column's
 *   character set (a latin1 CHAR read as BINARY, a TEXT as bytes). In a table with a GEOMETRY column the
 *   text and binary columns take `columns`' (information_schema's) character sets and types instead;
 * - MariaDB's UUID, INET4 and INET6 reach the binlog as BINARY(n), and zongji gives their text form only
 *   when the column type names them.
 * `columns` must be the table's columns in binlog order (information_schema's when their names match the
 * TableMap's, as binlog-stream.ts checks), or omitted when only the binlog's own are known.
 */
export function alignRowDecoding(event: TableMapEvent, columns?: readonly ColumnSchema[]): void {
  const entry = event.tableMap[event.tableId];
  if (entry?.columns === undefined) return;
  const hasGeometry = entry.columns.some((column) => column.type === GEOMETRY);
  entry.columns.forEach((decoding, index) => {
    if (decoding.type === GEOMETRY) {
      // BLOB and GEOMETRY share their metadata (the length prefix size); without a charset a BLOB stays bytes.
      decoding.type = BLOB;
      decoding.charset = null;
      return;
    }
    const column = columns?.[index];
    const described = entry.columnSchemas[index];
    if (column === undefined || described === undefined || !STRING_TYPES.has(decoding.type)) return;
    if (hasGeometry) {
      decoding.charset = column.charset ?? null;
      described.CHARACTER_SET_NAME = column.charset ?? null;
      described.COLUMN_TYPE = column.length === undefined ? column.type : `${column.type}(${column.length})`;
    } else if (TEXT_FORM_TYPES.has(column.type)) {
      described.COLUMN_TYPE = column.type;
    }
  });
}
