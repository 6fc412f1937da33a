import { ConfigError } from '../../topology/errors.ts';
import type { Logger } from '../../topology/log.ts';
import type { NotificationRecord } from '../../topology/notifications.ts';
import type { SnapshotRequestResult, SnapshotWait } from '../../topology/snapshot-request.ts';
import { topics } from '../../topology/topics.ts';
import { DB_TABLE, type PipelineConfig } from '../config-schema.ts';
import { badOption, requireConfigured } from '../option-values.ts';
import { buildPipeline } from '../pipeline.ts';
import { checkReachable } from '../reachability.ts';

/** What `cdc snapshot` asks for. */
export interface SnapshotCommand {
  source: string;
  tables: readonly string[];
  wait: SnapshotWait;
  timeoutMs?: number;
}

/** `--timeout S`: seconds above 0, as ms. */
export function parseTimeout(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) throw badOption('--timeout', text, 'a number of seconds above 0');
  return seconds * 1000;
}

/** What can be told wrong with a request before connecting: the source is the config's, the tables are named as it names them. */
export function checkSnapshotCommand(config: PipelineConfig, command: SnapshotCommand): void {
  requireConfigured('source', config.sources, command.source);
  const source = config.sources.find((s) => s.name === command.source)!;
  if (command.tables.length === 0) {
    throw new ConfigError(`--table: name a table to snapshot (${source.type === 'mysql' ? 'db.table' : 'a collection'} of source ${source.name}; repeat it for more)`);
  }
  const notDbTable = source.type === 'mysql' ? command.tables.find((table) => !DB_TABLE.test(table)) : undefined;
  if (notDbTable !== undefined) throw badOption('--table', notDbTable, `db.table (source ${source.name} captures MySQL/MariaDB tables)`);
  if (command.wait === 'none' && command.timeoutMs !== undefined) throw new ConfigError('--timeout: with --wait none nothing is waited for');
}

/**
 * `cdc snapshot`: sends the request to the source's partition of the control topic and, unless `wait` is
 * `none`, passes each notification about it to `show` until the answer waited for (Topology.requestSnapshot).
 */
export async function snapshot(config: PipelineConfig, command: SnapshotCommand, log: Logger, show: (notification: NotificationRecord) => void): Promise<SnapshotRequestResult> {
  checkSnapshotCommand(config, command);
  await checkReachable(config, { kafka: true });
  const { topology, transport } = buildPipeline(config, { log });
  try {
    return await topology.requestSnapshot(transport, command.source, command.tables, {
      wait: command.wait,
      onNotification: show,
      ...(command.timeoutMs === undefined ? {} : { timeoutMs: command.timeoutMs }),
    });
  } finally {
    await transport.close();
  }
}

/** A notification as one line: time, source, type, then its fields as `name=value`. */
export function formatNotification(notification: NotificationRecord): string {
  const { pipeline: _pipeline, source, at, type, ...fields } = notification;
  return [new Date(at).toISOString(), source, type, ...Object.entries(fields).map(([name, value]) => `${name}=${fieldText(value)}`)].join('  ');
}

/** A list of names as `a,b`, a name or number as it is, anything else (the refused tables) as JSON. */
function fieldText(value: unknown): string {
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** What became of the request, in one line: printed last (on stderr, as `cdc: ...`, when refused or timed out). */
export function formatSnapshotResult(pipeline: string, result: SnapshotRequestResult): string {
  const { id, source } = result.request;
  switch (result.status) {
    case 'sent':
      return `request ${id} is on ${topics.sourceControl(pipeline)}: the process running source ${source} takes it; its answer comes on ${topics.notifications(pipeline)}`;
    case 'accepted':
      return `source ${source} accepted request ${id}: snapshotting ${tableList(result.tables)} while it streams (cdc status shows the progress)${refusals(result)}`;
    case 'finished':
      return `source ${source} finished request ${id}: snapshotted ${tableList(result.tables)}${refusals(result)}`;
    case 'refused':
      return `source ${source} refused request ${id}: ${result.reason}`;
    case 'timed-out':
      return result.message;
  }
}

function tableList(tables: readonly string[]): string {
  return tables.join(', ') || 'no table';
}

function refusals(result: Extract<SnapshotRequestResult, { refused: unknown }>): string {
  return result.refused.length === 0 ? '' : `; refused ${result.refused.map(({ table, reason }) => `${table} (${reason})`).join(', ')}`;
}
