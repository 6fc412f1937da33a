import type { ColumnSchema, TableSchema } from '../../topology/change-event.ts';
import { compareTypes } from './column-type.ts';
import type { SqlDialect, TargetColumn } from './dialect.ts';

/** A target column that must accept more to hold the source's column as the newest schema has it. */
export interface ColumnWidening {
  column: ColumnSchema;
  /** The target's type now (information_schema's spelling). */
  from: string;
  /** The type the sink gives it: the dialect's type for the source column. */
  to: string;
  /** The type itself grows (else only NULL is newly allowed). */
  typeGrows: boolean;
  /** NULL allowed from now on. */
  nullable: boolean;
}

/** A target column the sink cannot make hold the source's column without losing or changing values. */
export interface ColumnRefusal {
  column: string;
  from: string;
  to: string;
  why: string;
}

export interface SchemaPlan {
  /** Source columns the target does not have. */
  added: ColumnSchema[];
  widened: ColumnWidening[];
  refused: ColumnRefusal[];
}

/**
 * What the target table needs to follow the source's table schema: the source's column metadata (the
 * ColumnSchema every event carries) against the target's current column types. A target column that
 * allows NULL while the source's does not is left so: added columns allow NULL too.
 */
export function planSchemaChange(dialect: SqlDialect, existing: readonly TargetColumn[], schema: TableSchema): SchemaPlan {
  const plan: SchemaPlan = { added: [], widened: [], refused: [] };
  const byName = new Map(existing.map((column) => [column.name, column]));
  for (const column of schema.columns) {
    const target = byName.get(column.name);
    if (target === undefined) {
      plan.added.push(column);
      continue;
    }
    const to = dialect.columnType(column);
    const change = compareTypes(dialect.comparableType(target.sqlType), dialect.comparableType(to));
    if (change.change === 'refuse') plan.refused.push({ column: column.name, from: target.sqlType, to, why: change.why });
    else if (change.change === 'widen' || (column.nullable && !target.nullable)) {
      plan.widened.push({ column, from: target.sqlType, to, typeGrows: change.change === 'widen', nullable: column.nullable || target.nullable });
    }
  }
  return plan;
}
