/**
 * The one table from MySQL/MariaDB column types to Avro (docs/types.md prints it for users).
 * Each entry gives the Avro type written to the registry, the value a reader fills in for a NOT NULL
 * column its writer did not have (MySQL's implicit default, which is also what ALTER TABLE ADD
 * COLUMN ... NOT NULL gives existing rows), and the codec that turns Avro values into canonical JS.
 */
import type { ColumnSchema } from '../topology/change-event.ts';

/** How a column's Avro values become canonical JS values; none: avsc's own value already is. */
export type ColumnCodec = 'bigint' | 'decimal' | 'unsigned-bigint' | undefined;

export interface AvroColumnType {
  /** The Avro schema of a NOT NULL column (a NULLable one is `["null", schema]`). */
  schema: string | Record<string, unknown>;
  implicitDefault: unknown;
  codec: ColumnCodec;
}

type Mapping = (column: ColumnSchema) => AvroColumnType;

// Debezium's semantic names, so consumers that know them interpret the values the same way.
const INT16 = { type: 'int', 'connect.type': 'int16' };

const plain =
  (schema: AvroColumnType['schema'], implicitDefault: unknown, codec?: ColumnCodec): Mapping =>
  () => ({ schema, implicitDefault, codec });

const string = (connectName?: string, implicitDefault = ''): Mapping =>
  plain(connectName === undefined ? 'string' : { type: 'string', 'connect.name': connectName }, implicitDefault);

const decimal = (precision: number, scale: number, codec: ColumnCodec): AvroColumnType => ({
  schema: {
    type: 'bytes',
    logicalType: 'decimal',
    precision,
    scale,
    'connect.name': 'org.apache.kafka.connect.data.Decimal',
    'connect.parameters': { scale: String(scale), 'connect.decimal.precision': String(precision) },
  },
  // One zero byte: Java's BigInteger rejects the empty array.
  implicitDefault: '\u0000',
  codec,
});

const members =
  (connectName: string, implicitDefault: (values: string[]) => string): Mapping =>
  (column) => {
    const values = column.values ?? [];
    return {
      schema: { type: 'string', 'connect.name': connectName, 'connect.parameters': { allowed: values.join(',') } },
      implicitDefault: implicitDefault(values),
      codec: undefined,
    };
  };

const int = plain('int', 0);
const bytes = plain('bytes', '');
const double = plain('double', 0);

const MAPPINGS: Record<string, Mapping> = {
  tinyint: plain(INT16, 0),
  bool: plain(INT16, 0),
  boolean: plain(INT16, 0),
  smallint: (c) => (c.unsigned ? int(c) : plain(INT16, 0)(c)),
  mediumint: int,
  int: (c) => (c.unsigned ? plain('long', 0)(c) : int(c)),
  integer: (c) => MAPPINGS.int!(c),
  year: plain({ type: 'int', 'connect.name': 'io.debezium.time.Year' }, 0),
  bigint: (c) => (c.unsigned ? decimal(20, 0, 'unsigned-bigint') : { schema: 'long', implicitDefault: 0, codec: 'bigint' }),
  decimal: (c) => decimal(c.precision ?? 10, c.scale ?? 0, 'decimal'),
  numeric: (c) => MAPPINGS.decimal!(c),
  dec: (c) => MAPPINGS.decimal!(c),
  fixed: (c) => MAPPINGS.decimal!(c),
  // FLOAT as double too: the canonical value is a JS number, which a 32-bit float would round.
  float: double,
  double,
  'double precision': double,
  real: double,
  bit: (c) => ({
    schema: { type: 'bytes', 'connect.name': 'io.debezium.data.Bits', 'connect.parameters': { length: String(c.length ?? 1) } },
    implicitDefault: '\u0000'.repeat(Math.ceil((c.length ?? 1) / 8)),
    codec: undefined,
  }),
  // Temporal values stay MySQL's own text: zero dates, invalid dates and TIME beyond 24h survive.
  date: string('rxcdc.mysql.Date', '0000-00-00'),
  time: string('rxcdc.mysql.Time', '00:00:00'),
  datetime: string('rxcdc.mysql.DateTime', '0000-00-00 00:00:00'),
  timestamp: string('rxcdc.mysql.Timestamp', '0000-00-00 00:00:00'),
  char: string(),
  varchar: string(),
  tinytext: string(),
  text: string(),
  mediumtext: string(),
  longtext: string(),
  enum: members('io.debezium.data.Enum', (values) => values[0] ?? ''),
  set: members('io.debezium.data.EnumSet', () => ''),
  json: string('io.debezium.data.Json', 'null'),
  binary: bytes,
  varbinary: bytes,
  tinyblob: bytes,
  blob: bytes,
  mediumblob: bytes,
  longblob: bytes,
  vector: bytes,
  // Spatial values as the bytes the source gives (MySQL's internal SRID + WKB).
  geometry: bytes,
  point: bytes,
  linestring: bytes,
  polygon: bytes,
  multipoint: bytes,
  multilinestring: bytes,
  multipolygon: bytes,
  geometrycollection: bytes,
  geomcollection: bytes,
  // MariaDB's own types, as their text form.
  uuid: string(),
  inet4: string(),
  inet6: string(),
};

/** Every MySQL/MariaDB type name (lower case) the table maps. */
export const MYSQL_TYPES: readonly string[] = Object.keys(MAPPINGS);

/** The Avro type of a column, or undefined for a type this table does not know. */
export function avroColumnType(column: ColumnSchema): AvroColumnType | undefined {
  return MAPPINGS[column.type.toLowerCase()]?.(column);
}
