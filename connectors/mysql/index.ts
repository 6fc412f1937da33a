/** `rxcdc/mysql`: the MySQL/MariaDB source (binlog) and sink. docs/mysql-source.md and docs/sinks.md describe them. */
export { MySqlSource, type MySqlSourceConfig } from './source.ts';
export { MySqlSink, type MySqlSinkOptions } from './sink.ts';
