/**
 * Why `cdc verify` compares no MongoDB collection with a SQL target: the SQL sinks make a target table
 * from an event's TableSchema, and a MongoDB event has none (its rows are `_id` and `doc`), so they
 * refuse the collection's events (SCHEMA_INCOMPATIBLE: the target table does not exist).
 */
export const MONGODB_INTO_SQL = 'the SQL sinks do not take MongoDB collections (their events carry no table schema to make a table from)';
