import { Kafka, logLevel } from '../topology/transports/kafka/kafkajs.ts';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { connectionOptions } from '../connectors/mysql/connection.ts';
import { ConfigError, UnreachableError } from '../topology/errors.ts';
import { redactUrls } from '../topology/redact.ts';
import type { PipelineConfig } from './config-schema.ts';
import { kafkaClientOptions } from './pipeline.ts';
import { oneLine } from './logger.ts';
import type { StageSelection } from '../topology/topology.ts';

const TIMEOUT_MS = 5_000;

/** Which servers a command needs: `run --only sinks` needs no source database, `status` none at all. */
export interface Needs {
  kafka?: boolean;
  registry?: boolean;
  sources?: boolean;
  sinks?: boolean;
}

export function needsOfRun(only: StageSelection): Needs {
  return { kafka: true, registry: true, sources: only !== 'sinks', sinks: only !== 'sources' };
}

/**
 * Before anything starts, every server the command needs answers, each within a few seconds: a server
 * that does not is one line saying which and where (UnreachableError, CLI exit 3); credentials it
 * refuses, or a Kafka TLS certificate the client does not trust, are a ConfigError (exit 2). All servers are tried at once and the first problem in config
 * order is reported.
 */
export async function checkReachable(config: PipelineConfig, needs: Needs): Promise<void> {
  const checks: Array<Promise<void>> = [];
  if (needs.kafka) checks.push(checkKafka(config));
  if (needs.registry) checks.push(checkRegistry(config));
  if (needs.sources) config.sources.forEach((source, i) => checks.push(checkDatabase(`sources[${i}] (${source.name})`, source.url)));
  if (needs.sinks) config.sinks.forEach((sink, i) => checks.push(checkDatabase(`sinks[${i}] (${sink.name})`, sink.url)));
  const results = await Promise.allSettled(checks);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * What a running pipeline failed with, said plainly when Kafka is the cause (CLI exit 3, one line naming
 * the brokers): a Kafka client error that means the brokers were unavailable (KafkaJS giving up its own
 * retries, e.g. "Failed to find group coordinator" while a broker is down or still starting), or any Kafka
 * client error while the brokers do not answer now. Anything else is returned as it is.
 */
export async function explainRunFailure(config: PipelineConfig, error: unknown): Promise<unknown> {
  const chain = causes(error);
  if (!chain.some((cause) => cause.name.startsWith('KafkaJS'))) return error;
  if (!kafkaUnavailable(error)) {
    try {
      await checkKafka(config);
      return error;
    } catch (refused) {
      // The brokers refuse this client now (credentials, certificate): that is the cause to report.
      if (refused instanceof ConfigError) return refused;
      // Else the brokers do not answer: they are the cause.
    }
  }
  return new UnreachableError(
    `kafka ${config.kafka.brokers.join(',')}: unavailable while running (${oneLine(error)}); the pipeline stopped at its last committed tokens and offsets: ` +
      'run it again once the brokers answer',
    { cause: error },
  );
}

/** KafkaJS errors that say the brokers could not be reached or could not serve (anywhere in the cause chain). */
const UNAVAILABLE = new Set(['KafkaJSGroupCoordinatorNotFound', 'KafkaJSBrokerNotFound', 'KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSNumberOfRetriesExceeded']);

export function kafkaUnavailable(error: unknown): boolean {
  return causes(error).some((cause) => UNAVAILABLE.has(cause.name));
}

function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let cause = error; cause instanceof Error && !chain.includes(cause); cause = cause.cause) chain.push(cause);
  return chain;
}

async function checkKafka(config: PipelineConfig): Promise<void> {
  const kafka = new Kafka({ ...kafkaClientOptions(config), logLevel: logLevel.NOTHING, connectionTimeout: TIMEOUT_MS, retry: { retries: 1 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw (
      kafkaRefusal(config, error) ??
      new UnreachableError(`kafka ${config.kafka.brokers.join(',')}: unreachable (${oneLine(error)}); check kafka.brokers and that the brokers run`, { cause: error })
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Node's codes for a server certificate it does not trust (or that names another host). */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Brokers that answer but refuse this client are a config problem (exit 2, like a database refusing its
 * login), not an unreachable server: the SASL credentials, or a TLS certificate the client does not trust.
 */
function kafkaRefusal(config: PipelineConfig, error: unknown): ConfigError | undefined {
  const brokers = `kafka ${config.kafka.brokers.join(',')}`;
  const chain = causes(error);
  const { sasl } = config.kafka;
  if (chain.some((cause) => cause.name === 'KafkaJSSASLAuthenticationError')) {
    const user = sasl ? `user ${sasl.username} (${sasl.mechanism})` : 'the client';
    return new ConfigError(`kafka.sasl: ${brokers} refused the login of ${user}; check kafka.sasl.username, password and mechanism`, { cause: error });
  }
  const tls = chain.find((cause) => UNTRUSTED_CERTIFICATE.has(String((cause as { code?: unknown }).code)));
  if (tls) {
    const what = (tls as { code?: unknown }).code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'names another host' : 'is not trusted';
    return new ConfigError(
      `kafka.ssl: the TLS certificate of ${brokers} ${what} (${tls.message.replace(/^Connection error: /, '')}); set kafka.ssl.ca to the CA that signed the brokers' certificates`,
      { cause: error },
    );
  }
  return undefined;
}

async function checkRegistry(config: PipelineConfig): Promise<void> {
  const { url, username, password } = config.schemaRegistry;
  const where = `schema registry ${redactUrls(url)}`;
  let response: Response;
  try {
    response = await fetch(`${url.replace(/\/$/, '')}/subjects`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
      ...(username ? { headers: { authorization: `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` } } : {}),
    });
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error;
    throw new UnreachableError(`${where}: unreachable (${oneLine(cause)}); check schemaRegistry.url and that the registry runs`, { cause: error });
  }
  if (response.status === 401 || response.status === 403) throw new ConfigError(`schemaRegistry: ${where} refused the credentials (HTTP ${response.status}); check schemaRegistry.username and password`);
  if (!response.ok) throw new UnreachableError(`${where}: answered HTTP ${response.status} to GET /subjects; check schemaRegistry.url (for Apicurio it ends in /apis/ccompat/v7)`);
}

async function checkDatabase(what: string, url: string): Promise<void> {
  const where = `${what} ${redactUrls(url)}`;
  try {
    if (url.startsWith('mysql://') || url.startsWith('mariadb://')) await pingMySql(url);
    else if (url.startsWith('postgres://') || url.startsWith('postgresql://')) await pingPostgres(url);
    else await pingMongo(url);
  } catch (error) {
    if (isAuthFailure(error)) throw new ConfigError(`${what}: ${redactUrls(url)} refused the login (${oneLine(error)}); check the user and password in the URL`, { cause: error });
    throw new UnreachableError(`${where}: unreachable (${oneLine(error)}); check the URL and that the server runs`, { cause: error });
  }
}

async function pingMySql(url: string): Promise<void> {
  const connection = await mysql.createConnection({ ...connectionOptions(url), connectTimeout: TIMEOUT_MS });
  await connection.end();
}

async function pingPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => {});
  }
}

async function pingMongo(url: string): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: TIMEOUT_MS, connectTimeoutMS: TIMEOUT_MS });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close().catch(() => {});
  }
}

/** MySQL 1045 ER_ACCESS_DENIED_ERROR, PostgreSQL 28P01/28000, MongoDB 18 AuthenticationFailed. */
function isAuthFailure(error: unknown): boolean {
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  return code === 'ER_ACCESS_DENIED_ERROR' || errno === 1045 || code === '28P01' || code === '28000' || code === 18;
}
