import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, toArray } from 'rxjs';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { Row } from '../../../topology/change-event.ts';
import { changes, itemsUntil, withSourceDatabase } from './source-fixture.ts';

const COLUMNS = `id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  dec65 DECIMAL(65,30), f FLOAT, d DOUBLE,
  dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, y YEAR,
  c CHAR(10), vc VARCHAR(100), tx TEXT,
  bn BINARY(4), vb VARBINARY(10), bl BLOB,
  e ENUM('small','large'), s SET('a','b','c'), b1 BIT(1), b10 BIT(10), b64 BIT(64), j JSON`;

const HIGHEST = `(1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
  '12345678901234567890123456789012345.123456789012345678901234567890', 0.1, 1.7976931348623157e308,
  '2024-02-29', '838:59:59', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', 2155,
  'ab', '😀 ünï', '𝄞 music', x'01020304', x'00ff', x'deadbeef', 'large', 'a,c', b'1', b'1000000001', x'FFFFFFFFFFFFFFFF', '{"k": [1, 2.5, "x"]}')`;
const LOWEST = `(2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
  '-0.000000000000000000000000000001', -3.4e38, -2.2250738585072014e-308,
  '0000-00-00', '-838:59:59', '0000-00-00 00:00:00', '1970-01-01 00:00:01', 1901,
  '', '', '', x'00000000', x'', x'', 'small', '', b'0', b'0', 0, '[]')`;
const NULLS = '(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)';

const EXPECTED: Row[] = [
  {
    id: 1, ti: 127, tiu: 255, si: 32767, siu: 65535, mi: 8388607, miu: 16777215, i: 2147483647, iu: 4294967295,
    bi: 9223372036854775807n, biu: 18446744073709551615n,
    dec65: '12345678901234567890123456789012345.123456789012345678901234567890', f: 0.1, d: 1.7976931348623157e308,
    dt: '2024-02-29', tm: '838:59:59.000000', dtm: '9999-12-31 23:59:59.999999', ts: '2038-01-19 03:14:07.999999', y: 2155,
    c: 'ab', vc: '😀 ünï', tx: '𝄞 music',
    bn: Buffer.from([1, 2, 3, 4]), vb: Buffer.from([0, 0xff]), bl: Buffer.from('deadbeef', 'hex'),
    e: 'large', s: 'a,c', b1: Buffer.from([1]), b10: Buffer.from([0x02, 0x01]), b64: Buffer.alloc(8, 0xff), j: '{"k": [1, 2.5, "x"]}',
  },
  {
    id: 2, ti: -128, tiu: 0, si: -32768, siu: 0, mi: -8388608, miu: 0, i: -2147483648, iu: 0,
    bi: -9223372036854775808n, biu: 0n,
    dec65: '-0.000000000000000000000000000001', f: -3.4e38, d: -2.2250738585072014e-308,
    dt: '0000-00-00', tm: '-838:59:59.000000', dtm: '0000-00-00 00:00:00.000000', ts: '1970-01-01 00:00:01.000000', y: 1901,
    c: '', vc: '', tx: '',
    bn: Buffer.alloc(4), vb: Buffer.alloc(0), bl: Buffer.alloc(0),
    e: 'small', s: '', b1: Buffer.from([0]), b10: Buffer.alloc(2), b64: Buffer.alloc(8), j: '[]',
  },
  {
    id: 3, ti: null, tiu: null, si: null, siu: null, mi: null, miu: null, i: null, iu: null, bi: null, biu: null,
    dec65: null, f: null, d: null, dt: null, tm: null, dtm: null, ts: null, y: null, c: null, vc: null, tx: null,
    bn: null, vb: null, bl: null, e: null, s: null, b1: null, b10: null, b64: null, j: null,
  },
];

test('every column type arrives with the same canonical value through snapshot and binlog, equal to what was inserted', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    // Zero dates need a permissive sql_mode; TIMESTAMP literals are meant in UTC.
    await admin.query("SET SESSION sql_mode = '', time_zone = '+00:00'");
    await admin.query(`CREATE TABLE \`${db}\`.all_types (${COLUMNS})`);
    const source = makeSource();
    const from = await source.openLog();
    await admin.query(`INSERT INTO \`${db}\`.all_types VALUES ${HIGHEST}, ${LOWEST}, ${NULLS}`);

    const snapshot = await firstValueFrom(source.snapshot(from, {}, new FlowControl()).pipe(toArray()));
    const snapshotRows = snapshot.flatMap((item) => (item.kind === 'row' ? [item.event.after] : []));
    const streamed = changes(await itemsUntil(source.stream(from, new FlowControl()), (item) => item.kind === 'commit'));

    assert.deepEqual(snapshotRows, EXPECTED);
    assert.deepEqual(
      streamed.map((event) => event.after),
      EXPECTED,
    );
    assert.deepEqual(
      streamed.map((event) => event.op),
      ['c', 'c', 'c'],
    );
  });
});
