import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { resolveJars } from '../maven.ts';
import { LOG_DIR, serviceDir } from '../paths.ts';
import { startDetached } from '../process.ts';
import { StackError } from '../stack-error.ts';
import type { Service } from '../service.ts';

export interface KafkaInstanceOptions {
  /** Names the pid file (with the port) and the log, `.stack/logs/<name>.log`. */
  name: string;
  /** The broker's port; the controller listens on the next one. */
  port: number;
  /** Holds the config and the data dir; reused as it is on the next start. */
  dir: string;
}

/**
 * Apache Kafka 3.9, one process as KRaft broker and controller, jars from Maven Central. The stack runs
 * one (`kafka` below); a test that must stop a broker runs a private one, so the shared one never stops.
 */
export function kafkaInstance({ name, port, dir }: KafkaInstanceOptions): Service {
  const controllerPort = port + 1;
  const configFile = join(dir, 'server.properties');
  const dataDir = join(dir, 'data');
  const logFile = name === 'kafka' ? 'kafka-server.log' : `${name}-server.log`;
  const service: Service = {
    name,
    envName: 'KAFKA_BROKERS',
    endpoint: `127.0.0.1:${port}`,
    ports: [port, controllerPort],
    managed: true,
    startTimeoutMs: 90_000,

    async prepare() {
      const lib = resolveJars('kafka');
      mkdirSync(dir, { recursive: true });
      writeFileSync(configFile, serverProperties(port, controllerPort, dataDir));
      writeFileSync(join(dir, 'log4j.properties'), log4jProperties(logFile));
      if (!existsSync(join(dataDir, 'meta.properties'))) formatStorage(lib, configFile, dataDir);
    },

    start() {
      const lib = resolveJars('kafka');
      startDetached(service, 'java', [
        '-Xms256m',
        '-Xmx768m',
        '-XX:+UseG1GC',
        `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`,
        `-Dkafka.logs.dir=${LOG_DIR}`,
        '-cp',
        `${lib}/*`,
        'kafka.Kafka',
        configFile,
      ]);
    },

    async ready() {
      const admin = new Kafka({ brokers: [service.endpoint], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1000 }).admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length > 0;
      } finally {
        await admin.disconnect();
      }
    },
  };
  return service;
}

export const kafka = kafkaInstance({ name: 'kafka', port: Number(process.env.STACK_KAFKA_PORT ?? 9092), dir: serviceDir('kafka') });

function serverProperties(port: number, controllerPort: number, dataDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    // Topics are created by the topology with explicit settings, never by a stray produce or fetch.
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=8',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=8',
    // Tests start consumer groups often: do not wait 3 s for more members to join.
    'group.initial.rebalance.delay.ms=0',
    'log.cleaner.backoff.ms=1000',
    '',
  ].join('\n');
}

function log4jProperties(logFile: string): string {
  return [
    'log4j.rootLogger=WARN, file',
    'log4j.appender.file=org.apache.log4j.FileAppender',
    `log4j.appender.file.File=${join(LOG_DIR, logFile)}`,
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka=INFO',
    'log4j.logger.org.apache.kafka=INFO',
    '',
  ].join('\n');
}

/** KRaft storage is formatted once with a fresh cluster id (the 22-character base64url UUID Kafka uses). */
function formatStorage(lib: string, configFile: string, dataDir: string): void {
  const clusterId = randomBytes(16).toString('base64url');
  const result = spawnSync('java', ['-cp', `${lib}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile], {
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new StackError(`kafka: formatting the KRaft storage in ${dataDir} failed: ${(result.stderr || result.stdout).trim().split('\n')[0]}`);
  }
}
