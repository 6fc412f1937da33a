/**
 * A table with a column of every MySQL/MariaDB type serdes/mysql-types.ts maps, and rows holding
 * each type's edge values in canonical form (topology/change-event.ts).
 */
import type { ChangeEvent, ColumnSchema, Op, Row, TableSchema, Value } from '../../topology/change-event.ts';

interface Case {
  column: Omit<ColumnSchema, 'nullable'>;
  /** Values for the rows, in order; the column is NULLable when one of them is null. */
  values: [Value, Value];
}

const CASES: Case[] = [
  { column: { name: 'id', type: 'bigint', unsigned: true }, values: [18446744073709551615n, 0n] },
  { column: { name: 'c_tinyint', type: 'tinyint' }, values: [-128, 127] },
  { column: { name: 'c_tinyint_u', type: 'tinyint', unsigned: true }, values: [255, 0] },
  { column: { name: 'c_bool', type: 'boolean' }, values: [1, null] },
  { column: { name: 'c_bool2', type: 'bool' }, values: [0, 1] },
  { column: { name: 'c_smallint', type: 'smallint' }, values: [-32768, 32767] },
  { column: { name: 'c_smallint_u', type: 'smallint', unsigned: true }, values: [65535, null] },
  { column: { name: 'c_mediumint', type: 'mediumint' }, values: [-8388608, 8388607] },
  { column: { name: 'c_mediumint_u', type: 'mediumint', unsigned: true }, values: [16777215, 0] },
  { column: { name: 'c_int', type: 'int' }, values: [-2147483648, 2147483647] },
  { column: { name: 'c_int_u', type: 'int', unsigned: true }, values: [4294967295, null] },
  { column: { name: 'c_integer', type: 'integer' }, values: [-1, 1] },
  { column: { name: 'c_bigint', type: 'bigint' }, values: [-9223372036854775808n, 9223372036854775807n] },
  { column: { name: 'c_bigint_u', type: 'bigint', unsigned: true }, values: [18446744073709551615n, null] },
  {
    column: { name: 'c_decimal', type: 'decimal', precision: 65, scale: 30 },
    values: ['-99999999999999999999999999999999999.999999999999999999999999999999', '0.000000000000000000000000000001'],
  },
  { column: { name: 'c_decimal_0', type: 'decimal', precision: 20, scale: 0 }, values: ['-99999999999999999999', null] },
  { column: { name: 'c_numeric', type: 'numeric', precision: 5, scale: 2 }, values: ['-0.50', '128.00'] },
  { column: { name: 'c_dec', type: 'dec', precision: 3, scale: 3 }, values: ['0.999', '-0.001'] },
  { column: { name: 'c_fixed', type: 'fixed', precision: 10, scale: 4 }, values: ['-32768.0000', '255.0128'] },
  { column: { name: 'c_float', type: 'float' }, values: [3.4028234663852886e38, -1.100000023841858] },
  { column: { name: 'c_double', type: 'double' }, values: [Number.MAX_VALUE, 5e-324] },
  { column: { name: 'c_double_precision', type: 'double precision' }, values: [-0.1, null] },
  { column: { name: 'c_real', type: 'real' }, values: [1e-300, 0] },
  { column: { name: 'c_bit', type: 'bit', length: 10 }, values: [Buffer.from([0x03, 0xff]), Buffer.from([0x00, 0x00])] },
  { column: { name: 'c_bit1', type: 'bit', length: 1 }, values: [Buffer.from([1]), null] },
  { column: { name: 'c_year', type: 'year' }, values: [2155, 0] },
  { column: { name: 'c_date', type: 'date' }, values: ['0000-00-00', '9999-12-31'] },
  { column: { name: 'c_date_odd', type: 'date' }, values: ['2024-02-30', '2024-00-00'] },
  { column: { name: 'c_time', type: 'time' }, values: ['-838:59:59', '838:59:59'] },
  { column: { name: 'c_time6', type: 'time', precision: 6 }, values: ['-00:00:00.000001', null] },
  { column: { name: 'c_datetime', type: 'datetime', precision: 6 }, values: ['0000-00-00 00:00:00.000000', '9999-12-31 23:59:59.999999'] },
  { column: { name: 'c_timestamp', type: 'timestamp', precision: 3 }, values: ['0000-00-00 00:00:00.000', '2038-01-19 03:14:07.999'] },
  { column: { name: 'c_char', type: 'char', length: 4, charset: 'utf8mb4' }, values: ['', null] },
  { column: { name: 'c_varchar', type: 'varchar', length: 255, charset: 'utf8mb4' }, values: ['𝄞😀', ''] },
  { column: { name: 'c_tinytext', type: 'tinytext', charset: 'latin1' }, values: ['café', null] },
  { column: { name: 'c_text', type: 'text' }, values: ['a\u0000b\nc', ' '] },
  { column: { name: 'c_mediumtext', type: 'mediumtext' }, values: ['x'.repeat(70_000), ''] },
  { column: { name: 'c_longtext', type: 'longtext' }, values: ['\u{10FFFF}', null] },
  { column: { name: 'c_binary', type: 'binary', length: 4 }, values: [Buffer.from([0, 0, 0, 0]), Buffer.from([0xff, 0, 0xfe, 1])] },
  { column: { name: 'c_varbinary', type: 'varbinary', length: 8 }, values: [Buffer.alloc(0), null] },
  { column: { name: 'c_tinyblob', type: 'tinyblob' }, values: [Buffer.from([0x80]), Buffer.alloc(0)] },
  { column: { name: 'c_blob', type: 'blob' }, values: [Buffer.from('blob'), null] },
  { column: { name: 'c_mediumblob', type: 'mediumblob' }, values: [Buffer.alloc(100_000, 7), Buffer.alloc(0)] },
  { column: { name: 'c_longblob', type: 'longblob' }, values: [Buffer.from([0xde, 0xad, 0xbe, 0xef]), null] },
  { column: { name: 'c_vector', type: 'vector' }, values: [Buffer.from(new Float32Array([1.5, -2]).buffer), null] },
  { column: { name: 'c_enum', type: 'enum', values: ['a', 'b', 'c d'] }, values: ['c d', ''] },
  { column: { name: 'c_set', type: 'set', values: ['x', 'y', 'z'] }, values: ['x,z', ''] },
  { column: { name: 'c_json', type: 'json' }, values: ['{"a": [1, 2.5, "𝄞"], "b": null}', null] },
  { column: { name: 'c_geometry', type: 'geometry' }, values: [Buffer.from('000000000101000000000000000000f03f0000000000000040', 'hex'), null] },
  { column: { name: 'c_point', type: 'point' }, values: [Buffer.from([0, 0, 0, 0, 1]), Buffer.from([1])] },
  { column: { name: 'c_linestring', type: 'linestring' }, values: [Buffer.from([2]), null] },
  { column: { name: 'c_polygon', type: 'polygon' }, values: [Buffer.from([3]), null] },
  { column: { name: 'c_multipoint', type: 'multipoint' }, values: [Buffer.from([4]), null] },
  { column: { name: 'c_multilinestring', type: 'multilinestring' }, values: [Buffer.from([5]), null] },
  { column: { name: 'c_multipolygon', type: 'multipolygon' }, values: [Buffer.from([6]), null] },
  { column: { name: 'c_geometrycollection', type: 'geometrycollection' }, values: [Buffer.from([7]), null] },
  { column: { name: 'c_geomcollection', type: 'geomcollection' }, values: [Buffer.from([8]), null] },
  { column: { name: 'c_uuid', type: 'uuid' }, values: ['123e4567-e89b-12d3-a456-426614174000', null] },
  { column: { name: 'c_inet4', type: 'inet4' }, values: ['255.255.255.255', '0.0.0.0'] },
  { column: { name: 'c_inet6', type: 'inet6' }, values: ['::ffff:1.2.3.4', null] },
  // A name Avro does not allow, to show the original name comes back.
  { column: { name: 'Größe (cm)', type: 'int' }, values: [180, null] },
];

export function allTypesTable(db: string, table: string): TableSchema {
  return {
    db,
    table,
    columns: CASES.map(({ column, values }) => ({ ...column, nullable: values.includes(null) })),
    primaryKey: ['id'],
    uniqueKeys: [['c_varchar', 'c_int']],
  };
}

export function allTypesRow(index: 0 | 1): Row {
  return Object.fromEntries(CASES.map(({ column, values }) => [column.name, values[index]]));
}

export function changeEvent(table: TableSchema, op: Op, before: Row | null, after: Row | null, position: string): ChangeEvent {
  const image = (after ?? before) as Row;
  return {
    op,
    key: Object.fromEntries(table.primaryKey.map((name) => [name, image[name] as Value])),
    before,
    after,
    source: { connector: 'mysql', name: 'test', db: table.db, table: table.table, position, txId: `tx-${position}`, tsMs: 1_700_000_000_000, snapshot: op === 'r' },
    tsMs: 1_700_000_000_123,
    schema: table,
  };
}
