/**
 * A Kafka Connect standalone worker (ConnectStandalone) on the stack's Kafka, with Avro through the stack's
 * registry: started without connectors, so a scenario times its connector from the moment it is created
 * over the REST API rather than from the JVM's start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { LOG_DIR, STACK_DIR } from '../../stack/paths.ts';
import { sleep } from '../../stack/process.ts';
import type { StackEnv } from '../../stack/env.ts';
import { PeakRss } from '../peak-rss.ts';
import { debeziumJars } from './jars.ts';

const START_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 30_000;

/**
 * Apicurio's converter 2.6 speaks the registry's own v2 API, which Apicurio 3.0 serves next to the
 * Confluent-compatible one the stack advertises. The 4-byte id handler, no headers and content ids make it
 * write the Confluent wire format (magic byte, 4-byte id) with the ids the ccompat API hands out, as our
 * serde does (`as-confluent` would do the same but warns that it overrides the default id handler).
 */
function avroConverter(prefix: 'key' | 'value', registryUrl: string): string[] {
  const nativeApi = registryUrl.replace(/\/apis\/ccompat\/v\d+\/?$/, '/apis/registry/v2');
  if (nativeApi === registryUrl) throw new Error(`SCHEMA_REGISTRY_URL ${registryUrl} is not Apicurio's ccompat API (…/apis/ccompat/v7)`);
  return [
    `${prefix}.converter=io.apicurio.registry.utils.converter.AvroConverter`,
    `${prefix}.converter.apicurio.registry.url=${nativeApi}`,
    `${prefix}.converter.apicurio.registry.auto-register=true`,
    `${prefix}.converter.apicurio.registry.find-latest=true`,
    `${prefix}.converter.apicurio.registry.id-handler=io.apicurio.registry.serde.Legacy4ByteIdHandler`,
    `${prefix}.converter.apicurio.registry.headers.enabled=false`,
    `${prefix}.converter.apicurio.registry.use-id=contentId`,
  ];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface ConnectorStatus {
  connector: { state: string; trace?: string };
  tasks: Array<{ state: string; trace?: string }>;
}

export class ConnectWorker {
  private exited = false;

  private constructor(
    private readonly process: ChildProcess,
    private readonly rest: string,
    private readonly dir: string,
    private readonly rss: PeakRss,
    readonly log: string,
  ) {
    process.once('exit', () => (this.exited = true));
  }

  /** A worker whose offsets and logs are its own (`run` names them), answering on its REST port. */
  static async start(run: string, env: StackEnv): Promise<ConnectWorker> {
    const lib = debeziumJars();
    const dir = join(STACK_DIR, 'debezium', run);
    const log = join(LOG_DIR, `debezium-${run}.log`);
    mkdirSync(dir, { recursive: true });
    mkdirSync(LOG_DIR, { recursive: true });
    const port = await freePort();
    writeFileSync(
      join(dir, 'worker.properties'),
      [
        `bootstrap.servers=${env.KAFKA_BROKERS}`,
        ...avroConverter('key', env.SCHEMA_REGISTRY_URL),
        ...avroConverter('value', env.SCHEMA_REGISTRY_URL),
        `offset.storage.file.filename=${join(dir, 'offsets')}`,
        'offset.flush.interval.ms=1000',
        `listeners=http://127.0.0.1:${port}`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'log4j.properties'),
      ['log4j.rootLogger=INFO, file', 'log4j.appender.file=org.apache.log4j.FileAppender', `log4j.appender.file.File=${log}`,
        'log4j.appender.file.layout=org.apache.log4j.PatternLayout', 'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n', ''].join('\n'),
    );
    const output = openSync(log, 'a');
    // The heap connect-standalone.sh gives a worker.
    const child = spawn(
      'java',
      ['-Xms256m', '-Xmx2g', `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`, '-cp', `${lib}/*`,
        'org.apache.kafka.connect.cli.ConnectStandalone', join(dir, 'worker.properties')],
      { stdio: ['ignore', output, output] },
    );
    const worker = new ConnectWorker(child, `http://127.0.0.1:${port}`, dir, new PeakRss(child.pid!), log);
    await worker.waitUntilUp();
    return worker;
  }

  private async waitUntilUp(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`the Kafka Connect worker exited while starting: see ${this.log}`);
      const up = await fetch(`${this.rest}/connectors`, { signal: AbortSignal.timeout(1000) }).then((response) => response.ok, () => false);
      if (up) return;
      await sleep(250);
    }
    throw new Error(`the Kafka Connect worker did not answer within ${START_TIMEOUT_MS / 1000} s: see ${this.log}`);
  }

  async createConnector(name: string, config: Record<string, string>): Promise<void> {
    const response = await fetch(`${this.rest}/connectors`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, config }),
    });
    if (!response.ok) throw new Error(`creating connector ${name} failed: ${response.status} ${await response.text()}`);
  }

  /** Stops (KIP-875: tasks shut down, offsets flushed, config kept) or resumes a connector, and waits for the state. */
  async setConnectorState(name: string, action: 'stop' | 'resume', state: 'STOPPED' | 'RUNNING'): Promise<void> {
    const response = await fetch(`${this.rest}/connectors/${encodeURIComponent(name)}/${action}`, { method: 'PUT' });
    if (!response.ok) throw new Error(`${action} of connector ${name} failed: ${response.status} ${await response.text()}`);
    while ((await this.status(name)).connector.state !== state) {
      await this.assertHealthy(name);
      await sleep(100);
    }
  }

  private async status(name: string): Promise<ConnectorStatus> {
    const response = await fetch(`${this.rest}/connectors/${encodeURIComponent(name)}/status`);
    if (!response.ok) throw new Error(`status of connector ${name}: ${response.status} ${await response.text()}`);
    return (await response.json()) as ConnectorStatus;
  }

  /** Throws when the connector or one of its tasks failed (with Connect's trace), so a scenario stops waiting. */
  async assertHealthy(name: string): Promise<void> {
    if (this.exited) throw new Error(`the Kafka Connect worker exited: see ${this.log}`);
    const status = await this.status(name);
    const failed = [status.connector, ...status.tasks].find((part) => part.state === 'FAILED');
    if (failed) throw new Error(`connector ${name} failed: ${failed.trace?.split('\n')[0] ?? 'no trace'} (see ${this.log})`);
  }

  /** Peak resident memory of the worker's JVM so far, in MB. */
  peakRssMb(): number {
    return this.rss.peakMb();
  }

  /** SIGTERM runs Connect's shutdown hook (connectors stopped, offsets flushed); SIGKILL if it hangs. */
  async stop(): Promise<void> {
    this.rss.stop();
    if (!this.exited) {
      this.process.kill('SIGTERM');
      const deadline = Date.now() + STOP_GRACE_MS;
      while (!this.exited && Date.now() < deadline) await sleep(200);
      if (!this.exited) this.process.kill('SIGKILL');
      while (!this.exited) await sleep(100);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
