/**
 * A MariaDB table with a column of every type of docs/types.md, and three rows of its edge values (the
 * highest, the lowest, all NULL) with the canonical values (topology/change-event.ts) a source must emit
 * for them. The GEOMETRY columns come before the text columns on purpose: MariaDB's binlog metadata
 * counts a GEOMETRY column among the character columns, which once shifted every later text column's
 * character set (connectors/mysql/binlog-decoding.ts).
 *
 * Not covered: VECTOR (MariaDB 11.7+; the stack runs 10.11).
 */
import type { Row } from '../../../topology/change-event.ts';

export const ALL_TYPES_COLUMNS = `id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, bo BOOL, bb BOOLEAN, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, ig INTEGER, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  dec65 DECIMAL(65,30), d20 DECIMAL(20,0), n52 NUMERIC(5,2), dc DEC(3,3), fx FIXED(10,4),
  f FLOAT, d DOUBLE, dp DOUBLE PRECISION, rl REAL,
  b1 BIT(1), b10 BIT(10), b64 BIT(64),
  y YEAR, dt DATE, t0 TIME, tm TIME(6), dt0 DATETIME, dtm DATETIME(6), ts3 TIMESTAMP(3) NULL, ts TIMESTAMP(6) NULL,
  g GEOMETRY, p POINT, ls LINESTRING, pg POLYGON, mp MULTIPOINT, mls MULTILINESTRING, mpg MULTIPOLYGON, gc GEOMETRYCOLLECTION,
  c CHAR(10), cl CHAR(4) CHARACTER SET latin1, vc VARCHAR(100), ttl TINYTEXT CHARACTER SET latin1, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT,
  e ENUM('small','large'), s SET('a','b','c'), j JSON,
  bn BINARY(4), vb VARBINARY(10), tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB,
  u UUID, i4 INET4, i6 INET6,
  \`Größe (cm)\` INT`;

/** MySQL's geometry value: its SRID (uint32 little-endian), then the WKB (little-endian). */
function geometry(srid: number, wkb: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(srid);
  return Buffer.concat([head, wkb]);
}

const uint32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return bytes;
};
const coordinates = (points: ReadonlyArray<readonly [number, number]>) => {
  const bytes = Buffer.alloc(16 * points.length);
  points.forEach(([x, y], index) => {
    bytes.writeDoubleLE(x, 16 * index);
    bytes.writeDoubleLE(y, 16 * index + 8);
  });
  return bytes;
};
const wkbHead = (type: number) => Buffer.concat([Buffer.from([1]), uint32(type)]);

/** WKB builders (OGC simple features, little-endian), to state the expected bytes independently of the server. */
const wkb = {
  point: (x: number, y: number) => Buffer.concat([wkbHead(1), coordinates([[x, y]])]),
  lineString: (...points: Array<[number, number]>) => Buffer.concat([wkbHead(2), uint32(points.length), coordinates(points)]),
  polygon: (...rings: Array<Array<[number, number]>>) =>
    Buffer.concat([wkbHead(3), uint32(rings.length), ...rings.flatMap((ring) => [uint32(ring.length), coordinates(ring)])]),
  collection: (type: 4 | 5 | 6 | 7, ...parts: Buffer[]) => Buffer.concat([wkbHead(type), uint32(parts.length), ...parts]),
};

const square: Array<[number, number]> = [[0, 0], [4, 0], [4, 4], [0, 0]];
const hole: Array<[number, number]> = [[1, 1], [2, 1], [2, 2], [1, 1]];

/** The rows as SQL values, in the order of ALL_TYPES_COLUMNS; insert with sql_mode '' and time_zone '+00:00'. */
export const ALL_TYPES_VALUES = [
  `(1, 127, 255, TRUE, FALSE, 32767, 65535, 8388607, 16777215, 2147483647, 1, 4294967295, 9223372036854775807, 18446744073709551615,
  '12345678901234567890123456789012345.123456789012345678901234567890', '99999999999999999999', '999.99', '0.999', '999999.9999',
  0.1, 1.7976931348623157e308, -0.1, 1e-300,
  b'1', b'1000000001', x'FFFFFFFFFFFFFFFF',
  2155, '2024-02-29', '838:59:59', '838:59:59.999999', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999', '2038-01-19 03:14:07.999999',
  ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('POINT(-1.5 1e300)'), ST_GeomFromText('LINESTRING(0 0,1 1,2 0)'),
  ST_GeomFromText('POLYGON((0 0,4 0,4 4,0 0),(1 1,2 1,2 2,1 1))'), ST_GeomFromText('MULTIPOINT(0 0,1 1)'),
  ST_GeomFromText('MULTILINESTRING((0 0,1 1),(2 2,3 3))'), ST_GeomFromText('MULTIPOLYGON(((0 0,4 0,4 4,0 0)))'),
  ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))'),
  'ab', 'café', '😀 ünï', '€ latin1', '𝄞 music', REPEAT('x', 70000), '\u{10FFFF}',
  'large', 'a,c', '{"k": [1, 2.5, "x"]}',
  x'01020304', x'00ff', x'80', x'deadbeef', REPEAT(x'07', 100000), x'00',
  '123e4567-e89b-12d3-a456-426614174000', '255.255.255.255', '::ffff:1.2.3.4',
  180)`,
  `(2, -128, 0, FALSE, TRUE, -32768, 0, -8388608, 0, -2147483648, -1, 0, -9223372036854775808, 0,
  '-0.000000000000000000000000000001', '-99999999999999999999', '-0.50', '-0.001', '-32768.0000',
  -3.4e38, -2.2250738585072014e-308, 0, -1e-300,
  b'0', b'0', 0,
  1901, '0000-00-00', '-838:59:59', '-00:00:00.000001', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', '1970-01-01 00:00:01.000', '1970-01-01 00:00:01.000000',
  ST_GeomFromText('GEOMETRYCOLLECTION EMPTY'), ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('LINESTRING(0 0,0 0)'),
  ST_GeomFromText('POLYGON((0 0,4 0,4 4,0 0))'), ST_GeomFromText('MULTIPOINT(0 0)'),
  ST_GeomFromText('MULTILINESTRING((0 0,1 1))'), ST_GeomFromText('MULTIPOLYGON(((0 0,4 0,4 4,0 0)),((1 1,2 1,2 2,1 1)))'),
  ST_GeomFromText('GEOMETRYCOLLECTION EMPTY'),
  '', '', '', '', '', '', '',
  'small', '', '[]',
  x'00000000', x'', x'', x'', x'', x'',
  '00000000-0000-0000-0000-000000000000', '0.0.0.0', '::',
  -1)`,
];

export const ALL_TYPES_EXPECTED: Row[] = [
  {
    id: 1, ti: 127, tiu: 255, bo: 1, bb: 0, si: 32767, siu: 65535, mi: 8388607, miu: 16777215, i: 2147483647, ig: 1, iu: 4294967295,
    bi: 9223372036854775807n, biu: 18446744073709551615n,
    dec65: '12345678901234567890123456789012345.123456789012345678901234567890', d20: '99999999999999999999', n52: '999.99', dc: '0.999', fx: '999999.9999',
    f: 0.1, d: 1.7976931348623157e308, dp: -0.1, rl: 1e-300,
    b1: Buffer.from([1]), b10: Buffer.from([0x02, 0x01]), b64: Buffer.alloc(8, 0xff),
    y: 2155, dt: '2024-02-29', t0: '838:59:59', tm: '838:59:59.999999', dt0: '9999-12-31 23:59:59', dtm: '9999-12-31 23:59:59.999999',
    ts3: '2038-01-19 03:14:07.999', ts: '2038-01-19 03:14:07.999999',
    g: geometry(4326, wkb.point(1, 2)),
    p: geometry(0, wkb.point(-1.5, 1e300)),
    ls: geometry(0, wkb.lineString([0, 0], [1, 1], [2, 0])),
    pg: geometry(0, wkb.polygon(square, hole)),
    mp: geometry(0, wkb.collection(4, wkb.point(0, 0), wkb.point(1, 1))),
    mls: geometry(0, wkb.collection(5, wkb.lineString([0, 0], [1, 1]), wkb.lineString([2, 2], [3, 3]))),
    mpg: geometry(0, wkb.collection(6, wkb.polygon(square))),
    gc: geometry(0, wkb.collection(7, wkb.point(1, 1), wkb.lineString([0, 0], [1, 1]))),
    c: 'ab', cl: 'café', vc: '😀 ünï', ttl: '€ latin1', tx: '𝄞 music', mt: 'x'.repeat(70_000), lt: '\u{10FFFF}',
    e: 'large', s: 'a,c', j: '{"k": [1, 2.5, "x"]}',
    bn: Buffer.from([1, 2, 3, 4]), vb: Buffer.from([0, 0xff]), tb: Buffer.from([0x80]), bl: Buffer.from('deadbeef', 'hex'), mb: Buffer.alloc(100_000, 7), lb: Buffer.from([0]),
    u: '123e4567-e89b-12d3-a456-426614174000', i4: '255.255.255.255', i6: '::ffff:1.2.3.4',
    'Größe (cm)': 180,
  },
  {
    id: 2, ti: -128, tiu: 0, bo: 0, bb: 1, si: -32768, siu: 0, mi: -8388608, miu: 0, i: -2147483648, ig: -1, iu: 0,
    bi: -9223372036854775808n, biu: 0n,
    dec65: '-0.000000000000000000000000000001', d20: '-99999999999999999999', n52: '-0.50', dc: '-0.001', fx: '-32768.0000',
    f: -3.4e38, d: -2.2250738585072014e-308, dp: 0, rl: -1e-300,
    b1: Buffer.from([0]), b10: Buffer.alloc(2), b64: Buffer.alloc(8),
    y: 1901, dt: '0000-00-00', t0: '-838:59:59', tm: '-00:00:00.000001', dt0: '0000-00-00 00:00:00', dtm: '0000-00-00 00:00:00.000000',
    ts3: '1970-01-01 00:00:01.000', ts: '1970-01-01 00:00:01.000000',
    g: geometry(0, wkb.collection(7)),
    p: geometry(0, wkb.point(0, 0)),
    ls: geometry(0, wkb.lineString([0, 0], [0, 0])),
    pg: geometry(0, wkb.polygon(square)),
    mp: geometry(0, wkb.collection(4, wkb.point(0, 0))),
    mls: geometry(0, wkb.collection(5, wkb.lineString([0, 0], [1, 1]))),
    mpg: geometry(0, wkb.collection(6, wkb.polygon(square), wkb.polygon(hole))),
    gc: geometry(0, wkb.collection(7)),
    c: '', cl: '', vc: '', ttl: '', tx: '', mt: '', lt: '',
    e: 'small', s: '', j: '[]',
    bn: Buffer.alloc(4), vb: Buffer.alloc(0), tb: Buffer.alloc(0), bl: Buffer.alloc(0), mb: Buffer.alloc(0), lb: Buffer.alloc(0),
    u: '00000000-0000-0000-0000-000000000000', i4: '0.0.0.0', i6: '::',
    'Größe (cm)': -1,
  },
];

const COLUMN_NAMES = Object.keys(ALL_TYPES_EXPECTED[0]!);
ALL_TYPES_VALUES.push(`(3${', NULL'.repeat(COLUMN_NAMES.length - 1)})`);
ALL_TYPES_EXPECTED.push(Object.fromEntries(COLUMN_NAMES.map((column) => [column, column === 'id' ? 3 : null])));
