import type { ConnectionOptions } from 'mysql2';
import { ConfigError, UnreachableError } from '../../topology/errors.ts';

/**
 * mysql2 options under which mysql2 (snapshot) and zongji (binlog) decode rows alike and close to the
 * canonical values of topology/change-event.ts: DECIMAL, 64-bit integers, temporal types and JSON as
 * exact strings, TIMESTAMP in UTC (the snapshot session's time_zone is set to match, see snapshot.ts).
 */
const CANONICAL_DECODING = {
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  jsonStrings: true,
  timezone: 'Z',
  charset: 'UTF8MB4_GENERAL_CI',
} as const satisfies ConnectionOptions;

/** Parses mysql:// or mariadb:// URLs; the password goes into the options and nowhere else. */
export function connectionOptions(url: string): ConnectionOptions {
  const parsed = parseUrl(url);
  return {
    host: parsed.hostname,
    port: parsed.port === '' ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    ...CANONICAL_DECODING,
  };
}

/** The URL without its password, for errors and logs. */
export function describeServer(url: string): string {
  const parsed = parseUrl(url);
  const user = parsed.username === '' ? '' : `${decodeURIComponent(parsed.username)}@`;
  return `${parsed.protocol}//${user}${parsed.host}`;
}

function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The text itself may hold a password: never repeat it.
    throw new ConfigError('MySQL source url is not a valid URL: expected mysql://user:password@host:port');
  }
  if (parsed.protocol !== 'mysql:' && parsed.protocol !== 'mariadb:') {
    throw new ConfigError(`MySQL source url has scheme ${parsed.protocol}: expected mysql:// or mariadb://`);
  }
  return parsed;
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST']);

/** Network failures become UnreachableError (retried); anything else is returned as it is. */
export function classifyConnectionError(error: unknown, server: string): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return new UnreachableError(`MySQL source ${server} is unreachable (${code})`, { cause: error });
  }
  return error;
}
