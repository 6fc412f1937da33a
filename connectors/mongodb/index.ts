/** `rxcdc/mongodb`: the MongoDB source (change streams) and sink. docs/mongodb-source.md and docs/sinks.md describe them. */
export { MongoSource } from './source.ts';
export type { MongoSourceConfigInput as MongoSourceConfig } from './config.ts';
export { MongoSink, type MongoSinkOptions } from './sink.ts';
