import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadLetterViews } from '../../../cli/console/dead-letter-view.ts';
import type { ChangeEvent } from '../../../topology/change-event.ts';
import { deadLetter, refusedSourceEvent } from '../../../topology/dead-letter.ts';
import { JsonSerde } from '../../../topology/json-serde.ts';
import { PipelineMetrics, RECENT_DEAD_LETTERS } from '../../../topology/metrics.ts';

const EVENT: ChangeEvent = {
  op: 'u',
  key: { id: 12345678901234567890n },
  before: { id: 12345678901234567890n, email: 'ann@example.com', photo: Buffer.from('png!'), note: null, age: 41 },
  after: { id: 12345678901234567890n, email: 'ann@example.org', photo: Buffer.from('png!'), note: null, age: 42 },
  source: { connector: 'mysql', name: 's', db: 'shop', table: 'people', position: '0000042', snapshot: false, tsMs: 0 },
  tsMs: 0,
};

test('a dead-lettered record is decoded with the serde, its key shown and every other value masked', async () => {
  const serde = new JsonSerde();
  const [encoded] = await serde.encode('shop.s.changes', [EVENT]);
  const metrics = new PipelineMetrics();
  const record = { topic: 'shop.s.changes', partition: 0, offset: '7', key: encoded!.key, value: encoded!.value, headers: {}, timestamp: 0 };
  metrics.deadLettered('repartition', [deadLetter('shop', 'repartition:operator vet', record, 'age must not change')]);
  const [view] = await Promise.all(metrics.recentDeadLetters.newestFirst().map((sample) => new DeadLetterViews(serde).view(sample)));
  assert.deepEqual({ ...view, at: undefined }, {
    at: undefined,
    stage: 'repartition:operator vet',
    reason: 'age must not change',
    origin: 'shop.s.changes/0@7',
    payload: {
      op: 'u',
      table: 'shop.people',
      position: '0000042',
      key: { id: '12345678901234567890' },
      before: { id: '12345678901234567890', email: '*** (15 chars)', photo: '*** (4 bytes)', note: null, age: '***' },
      after: { id: '12345678901234567890', email: '*** (15 chars)', photo: '*** (4 bytes)', note: null, age: '***' },
    },
  });
  assert.doesNotMatch(JSON.stringify(view), /ann@|example|png|"age":4/);
});

test('an undecodable record shows why and its size; an event refused in the source stage needs no decoding', async () => {
  const metrics = new PipelineMetrics();
  const garbage = { topic: 'shop.s.changes', partition: 0, offset: '8', key: null, value: Buffer.from('not json'), headers: {}, timestamp: 0 };
  metrics.deadLettered('repartition', [deadLetter('shop', 'repartition', garbage, 'cannot decode')]);
  metrics.sourceWrote('s', [refusedSourceEvent('shop', { event: EVENT, operator: 'vet', reason: 'no' })], undefined);
  const views = new DeadLetterViews(new JsonSerde());
  const [refused, undecodable] = await Promise.all(metrics.recentDeadLetters.newestFirst().map((sample) => views.view(sample)));
  assert.equal(metrics.deadLetterCount, 2);
  assert.equal(refused!.stage, 'source:operator vet');
  assert.equal(refused!.origin, undefined);
  assert.deepEqual((refused!.payload as { key: unknown }).key, { id: '12345678901234567890' });
  assert.match((undecodable!.payload as { undecodable: string }).undecodable, /^cannot decode shop\.s\.changes\/0@8: /);
  assert.equal((undecodable!.payload as { bytes: number }).bytes, 8);
});

test('only the newest dead letters are kept, however many there were', () => {
  const metrics = new PipelineMetrics();
  const records = Array.from({ length: RECENT_DEAD_LETTERS * 3 }, (_, i) =>
    deadLetter('shop', 'sink.copy', { topic: 'shop.repartition', partition: 0, offset: String(i), key: null, value: Buffer.from([i]), headers: {}, timestamp: 0 }, `reason ${i}`),
  );
  for (const record of records) metrics.deadLettered('sink:copy', [record]);
  const kept = metrics.recentDeadLetters.newestFirst();
  assert.equal(kept.length, RECENT_DEAD_LETTERS);
  assert.equal(kept[0]!.reason, `reason ${records.length - 1}`);
  assert.equal(kept.at(-1)!.reason, `reason ${records.length - RECENT_DEAD_LETTERS}`);
  assert.equal(metrics.deadLetterCount, records.length);
});
