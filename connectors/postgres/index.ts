/** `rxcdc/postgres`: the PostgreSQL sink. docs/sinks.md describes it. */
export { PostgresSink, type PostgresSinkOptions } from './sink.ts';
