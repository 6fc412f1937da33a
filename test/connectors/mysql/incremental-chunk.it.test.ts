/**
 * MySqlSource.readChunk on the stack's MariaDB: the chunks of an incremental snapshot, read while the
 * source streams, and where they sit in the binlog (connectors/mysql/incremental-chunk.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstValueFrom, toArray } from 'rxjs';
import { MySqlSource } from '../../../connectors/mysql/source.ts';
import { boundaryPosition } from '../../../connectors/mysql/position.ts';
import type { ChangeEvent } from '../../../topology/change-event.ts';
import { ConfigError, UnreachableError } from '../../../topology/errors.ts';
import { FlowControl } from '../../../topology/flow-control.ts';
import type { IncrementalChunk } from '../../../topology/source.ts';
import { CLOSED } from '../../cli/support/cli.ts';
import { snapshotRows } from '../../support/snapshot-items.ts';
import { changes, itemsUntil, randomServerId, withSourceDatabase, type SourceDatabase } from './source-fixture.ts';
import { ALL_TYPES_COLUMNS, ALL_TYPES_EXPECTED, ALL_TYPES_VALUES } from './type-rows.ts';

/** Every chunk of `table`, `size` rows each, each starting after the previous one's lastKey. */
async function readAllChunks(source: MySqlSource, table: string, size: number): Promise<IncrementalChunk[]> {
  const chunks: IncrementalChunk[] = [];
  for (let afterKey: string | undefined; chunks.at(-1)?.done !== true; afterKey = chunks.at(-1)!.lastKey) {
    const chunk = await source.readChunk(table, afterKey, size);
    assert.ok(chunk !== undefined, `${table} exists`);
    chunks.push(chunk);
  }
  return chunks;
}

/** The binlog position now, in the source's position format. */
async function binlogNow({ admin }: SourceDatabase): Promise<string> {
  const [[status]] = (await admin.query('SHOW MASTER STATUS')) as unknown as [[{ File: string; Position: number | string }]];
  return boundaryPosition({ file: status.File, pos: Number(status.Position) });
}

/** An `r` event without what differs between two reads of the same row: where and when it was read. */
function readRow({ source: { position: _position, tsMs: _sourceTs, ...source }, tsMs: _tsMs, ...event }: ChangeEvent) {
  return { ...event, source };
}

test('readChunk pages through a composite-key table in key order: the snapshot\'s rows, at one binlog position of MariaDB\'s consistent snapshot', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async (database) => {
    const { db, admin, source: makeSource } = database;
    await admin.query(`CREATE TABLE \`${db}\`.pairs (a INT, b VARCHAR(5), v INT, PRIMARY KEY (a, b))`);
    // 25 rows whose key order differs from insertion order, over both key columns.
    const rows = Array.from({ length: 25 }, (_, index): [number, string, number] => [index % 5, `k${String(24 - index).padStart(2, '0')}`, index]);
    await admin.query(`INSERT INTO \`${db}\`.pairs (a, b, v) VALUES ?`, [rows]);
    const source = makeSource();
    const table = `${db}.pairs`;

    const before = await binlogNow(database);
    const chunks = await readAllChunks(source, table, 10);
    const after = await binlogNow(database);

    const keyOrder = rows.map(([a, b]) => ({ a, b })).sort((x, y) => x.a - y.a || (x.b < y.b ? -1 : 1));
    assert.deepEqual(
      chunks.map((chunk) => ({ rows: chunk.rows.length, done: chunk.done, lastKey: chunk.lastKey })),
      [
        { rows: 10, done: false, lastKey: JSON.stringify(Object.values(keyOrder[9]!)) },
        { rows: 10, done: false, lastKey: JSON.stringify(Object.values(keyOrder[19]!)) },
        { rows: 5, done: true, lastKey: JSON.stringify(Object.values(keyOrder[24]!)) },
      ],
    );
    const events = chunks.flatMap((chunk) => chunk.rows);
    assert.deepEqual(
      events.map((event) => event.key),
      keyOrder,
    );
    const snapshot = snapshotRows(await firstValueFrom(source.snapshot(await source.openLog(), {}, new FlowControl()).pipe(toArray())));
    assert.deepEqual(events.map(readRow), snapshot.map(readRow));
    for (const chunk of chunks) {
      assert.equal(chunk.low, chunk.high, 'MariaDB reads a chunk at one binlog position');
      assert.ok(before <= chunk.low && chunk.high <= after, `${chunk.low} is a binlog position of the read, between ${before} and ${after}`);
      assert.ok(chunk.rows.every((event) => event.source.position === chunk.high));
      assert.deepEqual({ db: chunk.db, tableName: chunk.tableName, schema: chunk.schema }, { db, tableName: 'pairs', schema: snapshot[0]!.schema });
    }

    const past = await source.readChunk(table, chunks.at(-1)!.lastKey, 10);
    assert.deepEqual({ rows: past?.rows, lastKey: past?.lastKey, done: past?.done }, { rows: [], lastKey: undefined, done: true }, 'after the last row: an empty chunk');
  });
});

test('readChunk reads every column type as the snapshot does', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    // Zero dates need a permissive sql_mode; TIMESTAMP literals are meant in UTC.
    await admin.query("SET SESSION sql_mode = '', time_zone = '+00:00'");
    await admin.query(`CREATE TABLE \`${db}\`.all_types (${ALL_TYPES_COLUMNS})`);
    await admin.query(`INSERT INTO \`${db}\`.all_types VALUES ${ALL_TYPES_VALUES.join(', ')}`);
    const source = makeSource();

    const chunks = await readAllChunks(source, `${db}.all_types`, 2);
    const events = chunks.flatMap((chunk) => chunk.rows);
    assert.deepEqual(
      chunks.map((chunk) => chunk.rows.length),
      [2, 1],
    );
    assert.deepEqual(
      events.map((event) => event.after),
      ALL_TYPES_EXPECTED,
    );
    const snapshot = snapshotRows(await firstValueFrom(source.snapshot(await source.openLog(), {}, new FlowControl()).pipe(toArray())));
    assert.deepEqual(events.map(readRow), snapshot.map(readRow));
  });
});

test('a chunk holds the writes committed before it and none after, and its position sorts between the streamed changes of both', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await admin.query(`CREATE TABLE \`${db}\`.items (id INT PRIMARY KEY, v VARCHAR(10) NOT NULL)`);
    await admin.query(`INSERT INTO \`${db}\`.items VALUES (1, 'one'), (2, 'two')`);
    const source = makeSource();
    const from = await source.openLog();
    await admin.query(`UPDATE \`${db}\`.items SET v = 'before' WHERE id = 1`);

    const chunk = await source.readChunk(`${db}.items`, undefined, 10);

    await admin.query(`UPDATE \`${db}\`.items SET v = 'after' WHERE id = 2`);
    await admin.query(`INSERT INTO \`${db}\`.items VALUES (3, 'three')`);
    assert.deepEqual(
      chunk?.rows.map((event) => event.after),
      [
        { id: 1, v: 'before' },
        { id: 2, v: 'two' },
      ],
    );
    const streamed = changes(await itemsUntil(source.stream(from, new FlowControl()), (item) => item.kind === 'change' && item.event.key.id === 3));
    assert.deepEqual(
      streamed.map((event) => ({ op: event.op, id: event.key.id, read: event.source.position <= chunk!.low ? 'before' : event.source.position > chunk!.high ? 'after' : 'within' })),
      [
        { op: 'u', id: 1, read: 'before' },
        { op: 'u', id: 2, read: 'after' },
        { op: 'c', id: 3, read: 'after' },
      ],
    );
  });
});

test('readChunk refuses a table without a key unless one is configured, and finds no dropped table', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, admin, source: makeSource }) => {
    await admin.query(`CREATE TABLE \`${db}\`.keyless (id INT NOT NULL, v INT)`);
    await admin.query(`INSERT INTO \`${db}\`.keyless VALUES (2, 20), (1, 10)`);
    const table = `${db}.keyless`;

    await assert.rejects(makeSource().readChunk(table, undefined, 10), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, new RegExp(`${table} has no primary key.*keys: \\{ "${table}"`));
      return true;
    });
    const configured = await makeSource({ keys: { [table]: ['id'] } }).readChunk(table, undefined, 10);
    assert.deepEqual(
      configured?.rows.map((event) => event.key),
      [{ id: 1 }, { id: 2 }],
    );

    await admin.query(`DROP TABLE \`${db}\`.keyless`);
    assert.equal(await makeSource({ keys: { [table]: ['id'] } }).readChunk(table, undefined, 10), undefined);
  });
});

test('readChunk on a server that does not answer: UnreachableError (retried), naming the server without its password', async () => {
  const source = new MySqlSource({ name: 'gone', url: `mysql://cdc:secret@${CLOSED}`, serverId: randomServerId() });
  try {
    await assert.rejects(source.readChunk('shop.items', undefined, 10), (error) => {
      assert.ok(error instanceof UnreachableError, String(error));
      assert.match(error.message, new RegExp(`mysql://cdc@${CLOSED}`));
      assert.doesNotMatch(error.message, /secret/);
      return true;
    });
  } finally {
    await source.close();
  }
});
