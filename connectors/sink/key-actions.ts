import type { ChangeEvent, Row, TableSchema, Value } from '../../topology/change-event.ts';
import { comparePositions } from '../../topology/change-event.ts';
import type { RejectedRecord, SinkRecord } from '../../topology/sink.ts';

/**
 * What one batch asks of one key of one table, after the batch is reduced: the row this key must
 * hold (`row`), or that it must be absent (`row === null`), as of source position `position`.
 *
 * Idempotent apply (docs/design.md) is a last-writer-wins register per key, ordered by source
 * position: `c`/`r` and the after side of `u` set the key's row, `d` and the before side of a
 * key-changing `u` set it absent. Only the newest action per key in a batch matters for that key,
 * so a batch is reduced to one action per key before anything touches the target.
 */
export interface KeyAction {
  /** Primary-key values in the order of `keyColumns`. */
  key: Value[];
  /** `encodeValues(key)`: identity of the key inside this process (maps, sets). */
  keyId: string;
  position: string;
  row: Row | null;
  /** The record whose event decided this action: the one reported if the target rejects the row. */
  record: SinkRecord;
}

/** The actions of one batch for one source table, with the table's shape. */
export interface TableActions {
  /** The source's name in the pipeline (tombstones are purged per source: positions of two sources do not compare). */
  sourceName: string;
  sourceDb: string;
  sourceTable: string;
  schema: TableSchema | undefined;
  /** Position of the event that carried `schema`: schemas are in force in source order. */
  schemaPosition?: string;
  keyColumns: string[];
  /**
   * The newest `t` position of the batch: the target's rows written before it go first, and the batch's
   * actions older than it are dropped (the truncate removes what they would write).
   */
  truncatedBefore?: string;
  /** One action per key, newest position wins. */
  actions: KeyAction[];
}

/**
 * A process-local identity for a tuple of canonical values: an integer gives the same id whether a
 * number or a bigint carries it (a target may hand back a small BIGINT as a number).
 */
export function encodeValues(values: readonly unknown[]): string {
  // Almost every key has one column: its value's own id (no array, no JSON), which no tuple's JSON text equals.
  if (values.length === 1) return encodeValue(values[0]) ?? '';
  return JSON.stringify(values.map(encodeValue));
}

function encodeValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return `x${value.toString('hex')}`;
  if (typeof value === 'bigint' || typeof value === 'number') return `n${value.toString()}`;
  if (typeof value === 'boolean') return `n${value ? 1 : 0}`;
  return `s${String(value)}`;
}

/** The primary-key columns of an event's table: the schema's key, else the columns of `event.key`. */
export function keyColumnsOf(event: ChangeEvent): string[] {
  const fromSchema = event.schema?.primaryKey;
  return fromSchema && fromSchema.length > 0 ? fromSchema : Object.keys(event.key);
}

function pick(row: Row, columns: readonly string[]): Value[] {
  const values = new Array<Value>(columns.length);
  for (let i = 0; i < columns.length; i++) values[i] = row[columns[i]!] ?? null;
  return values;
}

/**
 * Splits a partition's batch into per-table, per-key actions and keeps the newest per key.
 * A `u` whose key changed is the delete of the before key plus the write of the after key, at the
 * event's position (docs/design.md: a primary-key change is a delete followed by a create).
 */
export function reduceBatch(batch: readonly SinkRecord[]): { tables: TableActions[]; rejected: RejectedRecord[] } {
  const rejected: RejectedRecord[] = [];
  const tables = new Map<string, TableActions & { byKey: Map<string, KeyAction> }>();
  for (const record of batch) {
    const { event } = record;
    const tableId = `${event.source.db}.${event.source.table}`;
    let table = tables.get(tableId);
    const keyColumns = keyColumnsOf(event);
    if (!table) {
      table = {
        sourceName: event.source.name,
        sourceDb: event.source.db,
        sourceTable: event.source.table,
        schema: event.schema,
        keyColumns,
        actions: [],
        byKey: new Map(),
      };
      tables.set(tableId, table);
    }
    // The newest schema of the batch is the one the target must be able to hold.
    if (event.schema) {
      table.schema = event.schema;
      table.schemaPosition = event.source.position;
    }
    if (event.op === 't') {
      const position = event.source.position;
      if (table.truncatedBefore === undefined || comparePositions(table.truncatedBefore, position) < 0) table.truncatedBefore = position;
      continue;
    }
    // A truncate's empty key names no columns: a row event of the table that comes after it does.
    if (table.keyColumns.length === 0) table.keyColumns = keyColumns;
    let actions: KeyAction | KeyAction[];
    try {
      actions = actionsOf(record, keyColumns);
    } catch (error) {
      rejected.push({ record, reason: (error as Error).message });
      continue;
    }
    if (Array.isArray(actions)) for (const action of actions) keepNewest(table.byKey, action);
    else keepNewest(table.byKey, actions);
  }
  return {
    tables: [...tables.values()].map(({ byKey, ...table }) => ({ ...table, actions: newerThanTruncate([...byKey.values()], table.truncatedBefore) })),
    rejected,
  };
}

function keepNewest(byKey: Map<string, KeyAction>, action: KeyAction): void {
  const current = byKey.get(action.keyId);
  // Equal positions are the same event delivered twice: the later copy is as good.
  if (!current || comparePositions(current.position, action.position) <= 0) byKey.set(action.keyId, action);
}

/**
 * The records of `batch` that `apply` left out by the position rule: no action of theirs was newer than
 * what the target holds, nor at or after its table's truncate floor (`applied` has the records of those
 * that were), and none was rejected. A truncate
 * always applies: it removes what was written before it, or nothing.
 */
export function skippedRecords(batch: readonly SinkRecord[], applied: ReadonlySet<SinkRecord>, rejected: readonly RejectedRecord[]): SinkRecord[] {
  const refused = new Set(rejected.map(({ record }) => record));
  return batch.filter((record) => record.event.op !== 't' && !applied.has(record) && !refused.has(record));
}

/** The table (MongoDB: collection) where a sink keeps, per target table, its truncate floor: the position of the newest `t` it applied. */
export const TRUNCATE_FLOORS = '__cdc_sink_truncates';

/** The actions at or after a truncate (a batch's own, or a table's floor in the target): every older row is gone. */
export function newerThanTruncate(actions: readonly KeyAction[], truncatedBefore: string | undefined): KeyAction[] {
  if (truncatedBefore === undefined) return [...actions];
  return actions.filter((action) => comparePositions(action.position, truncatedBefore) >= 0);
}

/** The actions of a row event, newest last (per record of every batch: no closures, no array when there is one). */
function actionsOf(record: SinkRecord, keyColumns: readonly string[]): KeyAction | KeyAction[] {
  const { event } = record;
  switch (event.op) {
    case 'c':
    case 'r':
      return action(record, keyOf(event, requireImage(event, 'after'), keyColumns), event.after);
    case 'd':
      return action(record, event.before ? keyOf(event, event.before, keyColumns) : pick(event.key, keyColumns), null);
    case 'u': {
      const after = requireImage(event, 'after');
      const afterAction = action(record, keyOf(event, after, keyColumns), after);
      if (!event.before) return afterAction;
      const beforeKey = keyOf(event, event.before, keyColumns);
      return encodeValues(beforeKey) === afterAction.keyId ? afterAction : [action(record, beforeKey, null), afterAction];
    }
    case 't':
      // Truncates are no key's action: reduceBatch keeps them per table.
      return [];
  }
}

function action(record: SinkRecord, key: Value[], row: Row | null): KeyAction {
  return { key, keyId: encodeValues(key), position: record.event.source.position, row, record };
}

/**
 * The key of an image of `event`. A MongoDB event's images hold the whole document under `doc`, with no key
 * column: its key (`_id`, which no update changes) is the event's.
 */
function keyOf(event: ChangeEvent, image: Row, keyColumns: readonly string[]): Value[] {
  return pick(event.source.connector === 'mongodb' ? event.key : image, keyColumns);
}

function requireImage(event: ChangeEvent, side: 'after'): Row {
  const image = event[side];
  if (!image) throw new TypeError(`a '${event.op}' event of ${event.source.db}.${event.source.table} has no ${side} image`);
  return image;
}
