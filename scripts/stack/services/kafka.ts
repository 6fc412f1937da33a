import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { resolveJars } from '../maven.ts';
import { LOG_DIR, serviceDir } from '../paths.ts';
import { commandLineOf, runningPid, sleep, startDetached } from '../process.ts';
import { StackError } from '../stack-error.ts';
import type { Service } from '../service.ts';
import { ensureSecureMaterial, SASL_USERNAME, secureMaterialIn, type SecureMaterial } from './kafka-secure.ts';

export interface KafkaInstanceOptions {
  /** Names the pid file (with the port) and the log, `.stack/logs/<name>.log`. */
  name: string;
  /** The broker's port; the controller listens on the next one. */
  port: number;
  /** Holds the config and the data dir; reused as it is on the next start. */
  dir: string;
  /**
   * A second listener on this port, SASL_SSL with SCRAM-SHA-256 and -512 (certificates and user made by
   * the stack); the stack's broker has one, the private brokers of tests do not.
   */
  securePort?: number;
}

/**
 * Apache Kafka 3.9, one process as KRaft broker and controller, jars from Maven Central. The stack runs
 * one (`kafka` below); a test that must stop a broker runs a private one, so the shared one never stops.
 */
export function kafkaInstance({ name, port, dir, securePort }: KafkaInstanceOptions): Service {
  const controllerPort = port + 1;
  const configFile = join(dir, 'server.properties');
  const dataDir = join(dir, 'data');
  const logFile = name === 'kafka' ? 'kafka-server.log' : `${name}-server.log`;
  const service: Service = {
    name,
    envName: 'KAFKA_BROKERS',
    endpoint: `127.0.0.1:${port}`,
    ports: securePort === undefined ? [port, controllerPort] : [port, controllerPort, securePort],
    managed: true,
    startTimeoutMs: 90_000,

    async prepare() {
      const lib = resolveJars('kafka');
      mkdirSync(dir, { recursive: true });
      const secure = securePort === undefined ? undefined : { port: securePort, material: ensureSecureMaterial(dir) };
      writeFileSync(configFile, serverProperties(port, controllerPort, dataDir, secure), { mode: 0o600 });
      writeFileSync(join(dir, 'log4j.properties'), log4jProperties(logFile));
      if (!existsSync(join(dataDir, 'meta.properties'))) formatStorage(lib, configFile, dataDir, secure?.material);
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

    outdated(pid) {
      if (securePort === undefined) return undefined;
      const running = runningConfigFile(pid);
      if (running === undefined) return undefined;
      const listeners = /^listeners=(.*)$/m.exec(readFileSync(running, 'utf8'))?.[1]?.split(',') ?? [];
      if (listeners.includes(`SASL_SSL://127.0.0.1:${securePort}`)) return undefined;
      return `the running broker (pid ${pid}, ${running}) has no SASL_SSL listener on port ${securePort}`;
    },

    async bootstrap() {
      if (securePort === undefined) return;
      const material = runningMaterial();
      const endpoint = `127.0.0.1:${securePort}`;
      // A busy machine may make a login slow or fail: only a refused one means the user is missing.
      const deadline = Date.now() + 30_000;
      let added = false;
      for (;;) {
        const login = await scramLogin(endpoint, material);
        if (login === 'ok') return;
        if (login === 'refused' && !added) {
          // A data dir formatted before the listener existed has no SCRAM user yet: add it through the plaintext listener.
          addScramUser(resolveJars('kafka'), service.endpoint, material.saslPassword);
          added = true;
        }
        // An added credential reaches the listener through the metadata log, a moment after the command returns.
        if (Date.now() > deadline) throw new StackError(`kafka: the SCRAM user ${SASL_USERNAME} cannot log in at ${endpoint} (${login}): see ${join(LOG_DIR, logFile)}`);
        await sleep(250);
      }
    },

    moreEnv() {
      if (securePort === undefined) return undefined;
      const material = runningMaterial();
      // Not made yet: `up` of other services only, before the broker's first start.
      if (!existsSync(material.caPem)) return undefined;
      return {
        KAFKA_SECURE_BROKERS: `127.0.0.1:${securePort}`,
        KAFKA_SECURE_CA: material.caPem,
        KAFKA_SASL_USERNAME: SASL_USERNAME,
        KAFKA_SASL_PASSWORD: material.saslPassword,
      };
    },
  };

  /** The running broker may come from another checkout: its certificates and password are in its own directory. */
  function runningMaterial(): SecureMaterial {
    const pid = runningPid(service);
    const running = pid === undefined ? undefined : runningConfigFile(pid);
    return secureMaterialIn(running === undefined ? dir : dirname(running));
  }
  return service;
}

/** The server.properties a running broker was started with (its last argument). */
function runningConfigFile(pid: number): string | undefined {
  const file = commandLineOf(pid)?.at(-1);
  return file?.endsWith('server.properties') && existsSync(file) ? file : undefined;
}

export const kafka = kafkaInstance({
  name: 'kafka',
  port: Number(process.env.STACK_KAFKA_PORT ?? 9092),
  dir: serviceDir('kafka'),
  securePort: Number(process.env.STACK_KAFKA_SECURE_PORT ?? 9094),
});

interface SecureListener {
  port: number;
  material: SecureMaterial;
}

function serverProperties(port: number, controllerPort: number, dataDir: string, secure?: SecureListener): string {
  const secureListener = secure ? `,SASL_SSL://127.0.0.1:${secure.port}` : '';
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${secureListener}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}${secureListener}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${secure ? ',SASL_SSL:SASL_SSL' : ''}`,
    ...(secure ? secureListenerProperties(secure.material) : []),
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

/** TLS with the stack's keystore (no client certificates) and SCRAM, whose users live in the KRaft metadata. */
function secureListenerProperties(material: SecureMaterial): string[] {
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return [
    `listener.name.sasl_ssl.ssl.keystore.location=${material.keystore}`,
    'listener.name.sasl_ssl.ssl.keystore.type=PKCS12',
    `listener.name.sasl_ssl.ssl.keystore.password=${material.keystorePassword}`,
    `listener.name.sasl_ssl.ssl.key.password=${material.keystorePassword}`,
    'listener.name.sasl_ssl.ssl.client.auth=none',
    'listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scram}`,
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scram}`,
  ];
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

/**
 * KRaft storage is formatted once with a fresh cluster id (the 22-character base64url UUID Kafka uses),
 * and with the SCRAM user when the broker has the secure listener.
 */
function formatStorage(lib: string, configFile: string, dataDir: string, material?: SecureMaterial): void {
  const clusterId = newClusterId();
  const scram = material ? scramCredentials(`name=${SASL_USERNAME},password=${material.saslPassword}`).flatMap((credential) => ['--add-scram', credential]) : [];
  const result = spawnSync('java', ['-cp', `${lib}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile, ...scram], {
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    const why = firstProblem(`${result.stderr}\n${result.stdout}`) ?? `exit ${result.status}`;
    throw new StackError(`kafka: formatting the KRaft storage in ${dataDir} failed: ${material ? why.replaceAll(material.saslPassword, '***') : why}`);
  }
}

/** As Kafka's own Uuid does, never one starting with '-': the command line would take it for an option. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The line of a Kafka tool's output that says what went wrong, past log4j's complaints about its own config. */
function firstProblem(output: string): string | undefined {
  const lines = output.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('log4j:'));
  return (lines.find((line) => /Exception: |Error: /.test(line)) ?? lines[0])?.trim();
}

function scramCredentials(fields: string): string[] {
  return [`SCRAM-SHA-256=[${fields}]`, `SCRAM-SHA-512=[${fields}]`];
}

/**
 * Adds (or resets) the SCRAM user with Kafka's own ConfigCommand (kafka-configs), through the plaintext
 * listener: one mechanism per run, as Kafka 3.9 refuses two credentials of one user in one request.
 */
function addScramUser(lib: string, bootstrap: string, password: string): void {
  for (const credential of scramCredentials(`password=${password}`)) {
    const args = ['--bootstrap-server', bootstrap, '--alter', '--entity-type', 'users', '--entity-name', SASL_USERNAME, '--add-config', credential];
    const result = spawnSync('java', ['-cp', `${lib}/*`, 'kafka.admin.ConfigCommand', ...args], { encoding: 'utf8' });
    if (result.status !== 0) {
      const why = firstProblem(`${result.stderr}\n${result.stdout}`) ?? `exit ${result.status}`;
      throw new StackError(`kafka: adding the SCRAM user ${SASL_USERNAME} failed: ${why.replaceAll(password, '***')}`);
    }
  }
}

/** Logs in with each SCRAM mechanism: 'refused' when the broker says the credentials are wrong. */
async function scramLogin(endpoint: string, material: SecureMaterial): Promise<'ok' | 'refused' | 'no answer'> {
  for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
    const options: KafkaConfig = {
      brokers: [endpoint],
      ssl: { ca: [readFileSync(material.caPem, 'utf8')] },
      sasl: { mechanism, username: SASL_USERNAME, password: material.saslPassword } as SASLOptions,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 5000,
    };
    const admin = new Kafka(options).admin();
    try {
      await admin.connect();
    } catch (error) {
      for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) if (cause.name === 'KafkaJSSASLAuthenticationError') return 'refused';
      return 'no answer';
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
  return 'ok';
}
