import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTypes } from '../../../connectors/sql/column-type.ts';
import { mysqlComparableType } from '../../../connectors/mysql/comparable-type.ts';
import { postgresComparableType } from '../../../connectors/postgres/comparable-type.ts';
import { postgresType } from '../../../connectors/postgres/sink.ts';
import { columnSchema } from '../../../connectors/mysql/column-types.ts';

/** Every (from, to) pair with i < j: each type widens into every later one. */
function chain(...types: string[]): Array<[string, string]> {
  return types.flatMap((from, i) => types.slice(i + 1).map((to): [string, string] => [from, to]));
}

function into(froms: readonly string[], tos: readonly string[]): Array<[string, string]> {
  return froms.flatMap((from) => tos.map((to): [string, string] => [from, to]));
}

const SIGNED = ['tinyint', 'smallint', 'mediumint', 'int', 'bigint'];
const UNSIGNED = SIGNED.map((type) => `${type} unsigned`);
const DECIMALS = ['decimal(5,2)', 'decimal(8,2)', 'decimal(7,4)', 'decimal(10,4)', 'decimal(20,0)'];
const CHARS = ['char(10)', 'char(20)'];
const VARCHARS = ['varchar(10)', 'varchar(20)', 'varchar(200)'];
const TEXTS = ['tinytext', 'text', 'mediumtext', 'longtext'];
const BLOBS = ['tinyblob', 'blob', 'mediumblob', 'longblob'];
const MEMBERS = ["enum('a','b')", "enum('a','b','c')", "enum('b','a')", "set('a','b')", "set('a','b','c')"];
const OTHERS = ['float', 'double', 'binary(4)', 'binary(8)', 'varbinary(4)', 'varbinary(16)', 'date', 'datetime(3)', 'datetime(6)', 'year', 'bit(8)'];
const TYPES = [...SIGNED, ...UNSIGNED, ...DECIMALS, ...CHARS, ...VARCHARS, ...TEXTS, ...BLOBS, ...MEMBERS, ...OTHERS];

/** The MySQL/MariaDB changes the sink makes in place; every other pair of distinct TYPES is refused. */
const WIDENINGS: Array<[string, string]> = [
  ...chain(...SIGNED),
  ...chain(...UNSIGNED),
  // An unsigned type into a signed one with room for its top; signed → unsigned never holds the negatives.
  ...into(['tinyint unsigned'], ['smallint', 'mediumint', 'int', 'bigint']),
  ...into(['smallint unsigned'], ['mediumint', 'int', 'bigint']),
  ...into(['mediumint unsigned'], ['int', 'bigint']),
  ['int unsigned', 'bigint'],
  // DECIMAL: no fewer integer digits and no smaller scale.
  ...chain('decimal(5,2)', 'decimal(8,2)', 'decimal(10,4)'),
  ['decimal(5,2)', 'decimal(7,4)'],
  ['decimal(7,4)', 'decimal(10,4)'],
  // Integers into a DECIMAL with room for all their digits.
  ...into(['tinyint', 'tinyint unsigned'], DECIMALS),
  ...into(['smallint', 'smallint unsigned'], ['decimal(8,2)', 'decimal(10,4)', 'decimal(20,0)']),
  ...into(['mediumint', 'mediumint unsigned', 'int', 'int unsigned', 'bigint', 'bigint unsigned'], ['decimal(20,0)']),
  ['float', 'double'],
  // Longer strings; fixed → variable → TEXT, never back.
  ...chain(...CHARS),
  ...chain(...VARCHARS),
  ...chain(...TEXTS),
  ...into(CHARS, [...VARCHARS.filter((type) => type !== 'varchar(10)'), ...TEXTS]),
  ['char(10)', 'varchar(10)'],
  ...into(['varchar(10)', 'varchar(20)'], TEXTS),
  ...into(['varchar(200)'], ['text', 'mediumtext', 'longtext']),
  ['binary(4)', 'binary(8)'],
  ['varbinary(4)', 'varbinary(16)'],
  ...into(['binary(4)'], ['varbinary(4)', 'varbinary(16)']),
  ['binary(8)', 'varbinary(16)'],
  ...into(['binary(4)', 'binary(8)', 'varbinary(4)', 'varbinary(16)'], BLOBS),
  ...chain(...BLOBS),
  // Members added at the end.
  ["enum('a','b')", "enum('a','b','c')"],
  ["set('a','b')", "set('a','b','c')"],
];

test('the widening rule on MySQL/MariaDB types: every pair either is the same, widens, or is refused', () => {
  const widening = new Set(WIDENINGS.map(([from, to]) => `${from} → ${to}`));
  assert.equal(widening.size, WIDENINGS.length, 'no pair listed twice');
  const wrong: string[] = [];
  for (const from of TYPES) {
    for (const to of TYPES) {
      const expected = from === to ? 'none' : widening.has(`${from} → ${to}`) ? 'widen' : 'refuse';
      const actual = compareTypes(mysqlComparableType(from), mysqlComparableType(to)).change;
      if (actual !== expected) wrong.push(`${from} → ${to}: ${actual}, expected ${expected}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('a refusal says why', () => {
  assert.deepEqual(compareTypes(mysqlComparableType('varchar(200)'), mysqlComparableType('varchar(50)')), { change: 'refuse', why: 'shorter' });
  assert.deepEqual(compareTypes(mysqlComparableType('varchar(20)'), mysqlComparableType('int')), { change: 'refuse', why: 'another type' });
  assert.deepEqual(compareTypes(mysqlComparableType('int'), mysqlComparableType('int unsigned')), { change: 'refuse', why: 'narrower integer range' });
});

test('information_schema spellings compare equal to the sink\'s own', () => {
  const same = (a: string, b: string) => assert.equal(compareTypes(mysqlComparableType(a), mysqlComparableType(b)).change, 'none', `${a} = ${b}`);
  same('int(11)', 'int');
  same('int(10) unsigned', 'int UNSIGNED');
  same('bigint(20) unsigned', 'bigint UNSIGNED');
  same('decimal(10,2)', 'decimal(10, 2)');
  same('varchar(20)', 'varchar(20) CHARACTER SET utf8mb4');
  same("enum('a','it''s')", "enum('a', 'it''s') CHARACTER SET utf8mb4");
  same('longtext', 'json');
  same('tinyint(1)', 'tinyint');
  same('year(4)', 'year');
  same('integer', 'int(11)');
});

test('PostgreSQL: format_type spellings against postgresType, and signed → unsigned where the target type grows', () => {
  const pgOf = (mysqlType: string) => postgresType(columnSchema({ name: 'c', columnType: mysqlType, nullable: true, charset: null }));
  const change = (current: string, mysqlType: string) => compareTypes(postgresComparableType(current), postgresComparableType(pgOf(mysqlType))).change;
  assert.equal(change('integer', 'int'), 'none');
  assert.equal(change('integer', 'int unsigned'), 'widen');
  assert.equal(change('smallint', 'smallint unsigned'), 'widen');
  assert.equal(change('bigint', 'bigint unsigned'), 'widen');
  assert.equal(change('smallint', 'tinyint unsigned'), 'none');
  assert.equal(change('integer', 'bigint'), 'widen');
  assert.equal(change('bigint', 'int'), 'refuse');
  assert.equal(change('character varying(20)', 'varchar(20)'), 'none');
  assert.equal(change('character varying(20)', 'char(20)'), 'none');
  assert.equal(change('character varying(20)', 'varchar(200)'), 'widen');
  assert.equal(change('character varying(200)', 'varchar(20)'), 'refuse');
  assert.equal(change('character varying(200)', 'text'), 'widen');
  assert.equal(change('text', "enum('a','b','c')"), 'none');
  assert.equal(change('numeric(6,2)', 'decimal(12,2)'), 'widen');
  assert.equal(change('numeric(6,2)', 'decimal(6,3)'), 'refuse');
  assert.equal(change('numeric(6,2)', 'decimal(7,3)'), 'widen');
  assert.equal(change('real', 'double'), 'widen');
  assert.equal(change('timestamp(3) without time zone', 'datetime(3)'), 'none');
  assert.equal(change('timestamp(0) with time zone', 'timestamp'), 'none');
  assert.equal(change('timestamp(3) with time zone', 'timestamp(6)'), 'refuse');
  assert.equal(change('character varying(20)', 'int'), 'refuse');
  assert.equal(change('jsonb', 'json'), 'none');
  assert.equal(change('bytea', 'varbinary(8)'), 'none');
  assert.equal(change('interval', 'time(3)'), 'none');
  assert.equal(change('date', 'date'), 'none');
});
