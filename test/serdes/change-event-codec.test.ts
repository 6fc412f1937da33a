import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncateEvent, type ChangeEvent } from '../../topology/change-event.ts';
import { tableEventSchemas } from '../../serdes/avro-schema.ts';
import { EnvelopeCodec } from '../../serdes/change-event-codec.ts';
import { collectionEventSchemas } from '../../serdes/mongo-avro-schema.ts';
import { documentKey, documentRow } from '../../serdes/mongo-document.ts';
import { allTypesRow, allTypesTable, changeEvent } from './all-types.ts';

/** The bytes avsc writes for the whole Envelope in one go: what encode, field by field, must write. */
const wholeEnvelope = (codec: EnvelopeCodec, event: ChangeEvent): Buffer => codec.type.toBuffer(codec.toAvro(event));

function encoded(codec: EnvelopeCodec, event: ChangeEvent): Buffer {
  // The all-types rows hold large values.
  const buffer = Buffer.alloc(1024 * 1024);
  return buffer.subarray(0, codec.encode(event, buffer, 0));
}

function mongoEvent(): { codec: EnvelopeCodec; event: ChangeEvent } {
  const codec = new EnvelopeCodec(collectionEventSchemas('srv', 'app', 'users').value);
  const document = { _id: 7, name: 'ada' };
  const source = { connector: 'mongodb' as const, name: 'm', db: 'app', table: 'users', position: '1', tsMs: 1, snapshot: true };
  return { codec, event: { op: 'r', key: documentKey(document._id), before: null, after: documentRow(document), source, tsMs: 2 } };
}

test('EnvelopeCodec.encode writes the bytes of the whole Envelope, for rows that share a source (kept bytes) and rows that do not', () => {
  const table = allTypesTable('shop', 'all');
  const codec = new EnvelopeCodec(tableEventSchemas('srv', table).value);
  const [first, second] = [allTypesRow(0), allTypesRow(1)];
  const snapshotRow = changeEvent(table, 'r', null, first, '001');
  const { source } = snapshotRow;
  const events: ChangeEvent[] = [
    snapshotRow,
    // The same source, op and ts_ms: from the second on, the tail's bytes are kept and copied.
    { ...snapshotRow, after: second },
    { ...snapshotRow, after: first },
    { ...snapshotRow, op: 'c' },
    { ...snapshotRow, tsMs: snapshotRow.tsMs + 1 },
    { ...snapshotRow, source: { ...source } },
    { ...snapshotRow, source: { ...source, txId: undefined } },
    { ...snapshotRow, source: { ...source, snapshot: false } },
    changeEvent(table, 'u', second, { ...second, c_varchar: 'changed' }, '002'),
    changeEvent(table, 'u', second, { ...second, c_varchar: 'changed again' }, '002'),
    changeEvent(table, 'd', first, null, '003'),
    truncateEvent(source, table),
  ];
  for (const [i, event] of events.entries()) assert.deepEqual(encoded(codec, event), wholeEnvelope(codec, event), `event ${i}`);

  // A source changed in place after its bytes were kept is written with its new values.
  const changing = { ...snapshotRow, source: { ...source } };
  encoded(codec, changing);
  encoded(codec, changing);
  changing.source.position = '004';
  assert.deepEqual(encoded(codec, changing), wholeEnvelope(codec, changing));
});

test('EnvelopeCodec.encode writes a MongoDB Envelope as avsc does', () => {
  const { codec, event } = mongoEvent();
  for (const each of [event, event, { ...event, op: 'd' as const, before: event.after, after: null }]) assert.deepEqual(encoded(codec, each), wholeEnvelope(codec, each));
});

test('EnvelopeCodec.encode into a buffer too short says so with a negative end, at any cut, kept tail bytes included', () => {
  const { codec, event } = mongoEvent();
  const bytes = wholeEnvelope(codec, event);
  for (let length = 0; length < bytes.length; length++) {
    assert.ok(codec.encode(event, Buffer.alloc(length), 0) < 0, `${length} bytes`);
    assert.deepEqual(encoded(codec, event), bytes, `after a cut at ${length} bytes`);
  }
});
