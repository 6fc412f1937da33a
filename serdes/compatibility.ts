/**
 * BACKWARD compatibility (readers of the new schema read data written with the previous one),
 * checked here before registering so the error can name the column; the registry checks again.
 */
import type { RecordSchema } from './avro-schema.ts';
import { avroType, fieldAvroType } from './change-event-codec.ts';
import { SchemaIncompatibleError } from './errors.ts';
import { columnOf, valueRecordOf } from './table-schema-from-avro.ts';

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Throws SchemaIncompatibleError when `next` cannot read what `previous` wrote. */
export function assertBackward(table: string, previous: RecordSchema, next: RecordSchema): void {
  try {
    avroType(next).createResolver(avroType(previous));
    return;
  } catch (error) {
    // The whole schema does not resolve: find the column to blame, field by field.
    const before = valueRecordOf(previous) ?? previous;
    const after = valueRecordOf(next) ?? next;
    for (const field of after.fields) {
      const old = before.fields.find((f) => f.name === field.name);
      const column = columnOf(field)?.name ?? field.name;
      if (old === undefined) {
        if (field.default === undefined) throw new SchemaIncompatibleError(table, column, 'added without a default');
        continue;
      }
      try {
        fieldAvroType(field).createResolver(fieldAvroType(old));
      } catch (fieldError) {
        throw new SchemaIncompatibleError(table, column, reason(fieldError), { cause: fieldError });
      }
    }
    throw new SchemaIncompatibleError(table, undefined, reason(error), { cause: error });
  }
}
