import { test } from 'node:test';
import assert from 'node:assert/strict';
import avsc from 'avsc';
import { tableEventSchemas } from '../../serdes/avro-schema.ts';
import { decodeWhole, encodeAt } from '../../serdes/avro-tap.ts';
import { EnvelopeCodec } from '../../serdes/change-event-codec.ts';
import { allTypesRow, allTypesTable, changeEvent } from './all-types.ts';

const table = allTypesTable('shop', 'all');
const codec = new EnvelopeCodec(tableEventSchemas('srv', table).value);
const envelope = codec.toAvro(changeEvent(table, 'u', allTypesRow(0), allTypesRow(1), '001'));

test("encodeAt writes avsc's bytes at the offset asked, and says how many are missing as avsc's encode does", () => {
  const expected = codec.type.toBuffer(envelope);
  const buffer = Buffer.alloc(expected.length + 10, 0xee);
  assert.equal(encodeAt(codec.type, envelope, buffer, 3), 3 + expected.length);
  assert.deepEqual(buffer.subarray(3, 3 + expected.length), expected);
  for (const length of [0, 5, expected.length + 2]) {
    const short = Buffer.alloc(length);
    assert.equal(encodeAt(codec.type, envelope, short, 3), codec.type.encode(envelope, Buffer.alloc(length), 3), `${length} bytes`);
  }
});

test('decodeWhole reads what avsc reads, with and without a resolver, and refuses too few or too many bytes', () => {
  const bytes = Buffer.concat([Buffer.from([9, 9]), codec.type.toBuffer(envelope)]);
  assert.deepEqual(decodeWhole(codec.type, bytes, 2), codec.type.decode(bytes, 2).value);
  // An older reader: the writer's Envelope without its last field resolved into it.
  const reader = avsc.Type.forSchema({ type: 'record', name: 'Point', fields: [{ name: 'x', type: 'long' }] });
  const writer = avsc.Type.forSchema({ type: 'record', name: 'Point', fields: [{ name: 'x', type: 'long' }, { name: 'label', type: 'string' }] });
  const resolver = reader.createResolver(writer);
  assert.deepEqual({ ...(decodeWhole(reader, writer.toBuffer({ x: 5, label: 'five' }), 0, resolver) as object) }, { x: 5 });
  assert.throws(() => decodeWhole(writer, writer.toBuffer({ x: 5, label: 'five' }), 0, resolver), /invalid resolver/);
  assert.throws(() => decodeWhole(codec.type, bytes.subarray(0, bytes.length - 1), 2), /truncated Avro payload/);
  assert.throws(() => decodeWhole(codec.type, Buffer.concat([bytes, Buffer.from([0])]), 2), /1 bytes left after the Avro value/);
});

test('a failed read or write leaves nothing behind for the next one', () => {
  assert.throws(() => encodeAt(codec.type, { ...envelope, op: 7 }, Buffer.alloc(4096), 0));
  const bytes = codec.type.toBuffer(envelope);
  assert.throws(() => decodeWhole(codec.type, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 0));
  assert.deepEqual(decodeWhole(codec.type, bytes, 0), codec.type.fromBuffer(bytes));
  const buffer = Buffer.alloc(bytes.length);
  assert.equal(encodeAt(codec.type, envelope, buffer, 0), bytes.length);
  assert.deepEqual(buffer, bytes);
});
