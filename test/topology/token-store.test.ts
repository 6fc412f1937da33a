import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryTransport } from '../../topology/transports/memory.ts';
import { TopicTokenStore, tablesKey } from '../../topology/token-store.ts';
import { tokenKey, type SourceToken } from '../../topology/token.ts';
import { topics } from '../../topology/topics.ts';
import type { ConsumedRecord } from '../../topology/transport.ts';

const pipeline = 'p';

/** A source with many tables, all snapshotted and captured: the maps a token carries grow with them. */
function manyTables(count: number): Pick<SourceToken, 'snapshot' | 'captured'> {
  const names = Array.from({ length: count }, (_, i) => `shop.table_${String(i).padStart(4, '0')}`);
  return {
    snapshot: Object.fromEntries(names.map((name) => [name, { done: true, rows: 123_456, chunks: 13, lastKey: '[123456]' }])),
    captured: Object.fromEntries(names.map((name) => [name, 1_765_000_000_000])),
  };
}

const streaming = (position: string, tables: Pick<SourceToken, 'snapshot' | 'captured'>): SourceToken => ({ pipeline, source: 's', phase: 'streaming', position, resume: { pos: Number(position) }, ...tables, writtenAt: 0 });

async function tokenRecords(transport: MemoryTransport): Promise<ConsumedRecord[]> {
  const records: ConsumedRecord[] = [];
  await transport.readToEnd(topics.tokens(pipeline), (record) => records.push(record));
  return records;
}

test('the per-table maps are written once, apart from the position, until they change: tokens of a 2,000-table source stay small', async () => {
  const transport = new MemoryTransport();
  const tokens = await TopicTokenStore.open(transport, pipeline);
  const tables = manyTables(2_000);
  for (const position of ['1', '2', '3']) await tokens.commit(streaming(position, tables));
  const captured = { ...tables.captured, 'shop.added': 1_765_000_001_000 };
  await tokens.commit(streaming('4', { ...tables, captured }));

  const records = await tokenRecords(transport);
  const keys = records.map((record) => record.key!.toString());
  const [position, maps] = [tokenKey(pipeline, 's'), tablesKey(pipeline, 's')];
  assert.deepEqual(keys, [maps, position, position, position, maps, position]);
  const positionSizes = records.filter((_, i) => keys[i] === position).map((record) => record.value!.length);
  assert.ok(positionSizes.every((size) => size < 200), `position records of ${positionSizes.join(', ')} bytes`);
  assert.ok(records[0]!.value!.length > 100_000, 'the maps of 2,000 tables');

  const latest = await tokens.latest('s');
  assert.deepEqual(latest, streaming('4', { ...tables, captured }));
  // After a restart (latest() read), the next token writes the maps again, even the same ones.
  await tokens.commit(streaming('5', { ...tables, captured }));
  assert.deepEqual((await tokenRecords(transport)).slice(6).map((record) => record.key!.toString()), [maps, position]);
});

test('a token an earlier version wrote, its maps inline, reads as written; the maps written after it replace them', async () => {
  const transport = new MemoryTransport();
  const producer = await transport.producer();
  const tokens = await TopicTokenStore.open(transport, pipeline);
  const inline = streaming('7', manyTables(2));
  await producer.send([{ topic: topics.tokens(pipeline), partition: 0, key: Buffer.from(tokenKey(pipeline, 's')), value: Buffer.from(JSON.stringify(inline)) }]);
  assert.deepEqual(await tokens.latest('s'), inline);

  const next = streaming('8', manyTables(3));
  await tokens.commit(next);
  assert.deepEqual(await tokens.latest('s'), next);
  await producer.send([{ topic: topics.tokens(pipeline), partition: 0, key: Buffer.from(tokenKey(pipeline, 's')), value: null }]);
  assert.equal(await tokens.latest('s'), undefined, 'a tombstone removes the token and its maps');
});
