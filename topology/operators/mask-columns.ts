import { map, type OperatorFunction } from 'rxjs';
import type { ChangeEvent, Row, Value } from '../change-event.ts';

/**
 * Replaces the values of the named columns in `before` and `after` (PII that must not reach the topics),
 * leaving NULL as NULL so the masked value still tells whether there was one. Key columns are not
 * masked: the key routes the event and identifies the row at the sink.
 */
export function maskColumns(
  columns: readonly string[],
  mask: (value: Exclude<Value, null>, column: string) => Value = () => '***',
): OperatorFunction<ChangeEvent, ChangeEvent> {
  const masked = new Set(columns);
  const maskRow = (row: Row | null): Row | null => {
    if (row === null || !columns.some((column) => column in row)) return row;
    const out: Row = {};
    for (const column in row) {
      const value = row[column]!;
      out[column] = masked.has(column) && value !== null ? mask(value, column) : value;
    }
    return out;
  };
  return map((event) => ({ ...event, before: maskRow(event.before), after: maskRow(event.after) }));
}
