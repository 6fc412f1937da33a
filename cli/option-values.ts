import { ConfigError } from '../topology/errors.ts';
import type { PartitionOffset } from '../topology/transport.ts';

const OFFSETS = /^\d+:\d+(,\d+:\d+)*$/;

/** `partition:offset,...` (`0:120,1:98`); undefined when `text` is not of that form. */
export function parseOffsets(text: string): PartitionOffset[] | undefined {
  if (!OFFSETS.test(text)) return undefined;
  return text.split(',').map((pair) => {
    const [partition, offset] = pair.split(':');
    return { partition: Number(partition), offset: String(BigInt(offset!)) };
  });
}

/** An ISO time (a date first: `2026-11-22T10:00:00Z`, `2026-11-22`) as ms since epoch; undefined for anything else. */
export function parseIsoTime(text: string): number | undefined {
  const timestamp = Date.parse(text);
  return /^\d{4}-\d{2}-\d{2}/.test(text) && !Number.isNaN(timestamp) ? timestamp : undefined;
}

export const OFFSETS_EXAMPLE = 'partition:offset pairs (0:120,1:98)';
export const TIME_EXAMPLE = 'an ISO time (2026-11-22T10:00:00Z)';

/** For messages: the option and the value it got. */
export function badOption(option: string, text: string, expected: string): ConfigError {
  return new ConfigError(`${option}: "${text}" is not ${expected}`);
}

/** `--source NAME` or `--sink NAME` names one of the config's sources or sinks. */
export function requireConfigured(kind: 'source' | 'sink', configured: ReadonlyArray<{ name: string }>, name: string): void {
  if (!configured.some((entry) => entry.name === name)) {
    throw new ConfigError(`--${kind}: the config has no ${kind} named ${name} (it has: ${configured.map((entry) => entry.name).join(', ') || 'none'})`);
  }
}
