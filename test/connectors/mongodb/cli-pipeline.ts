/**
 * A MongoDB → MongoDB pipeline run by `cdc run` in child processes (test/cli/support/cli.ts), so tests can
 * SIGKILL it, and a writer that keeps inserting, updating and deleting on the source while it runs.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Collection } from 'mongodb';
import { stackEnv } from '../../support/stack-env.ts';
import { BackgroundRun, writeConfig } from '../../cli/support/cli.ts';

export interface MongoPipelineConfig {
  pipeline: string;
  url: string;
  sourceDatabase: string;
  targetDatabase: string;
  chunkSize: number;
}

/** Writes the pipeline's config file; `remove()` deletes it. */
export function mongoPipelineConfig(config: MongoPipelineConfig): { file: string; remove(): void } {
  const env = stackEnv();
  const brokers = env.KAFKA_BROKERS.split(',').map((broker) => `'${broker}'`).join(', ');
  const file = writeConfig(`pipeline: ${config.pipeline}
kafka: { brokers: [${brokers}] }
schemaRegistry: { url: '${env.SCHEMA_REGISTRY_URL}' }
sources:
  - { name: m, type: mongodb, url: '${config.url}', database: ${config.sourceDatabase}, chunkSize: ${config.chunkSize}, parallelism: 2 }
repartition: { partitions: 4 }
sinks:
  - { name: copy, type: mongodb, url: '${config.url}', database: ${config.targetDatabase} }
metrics: { port: 0 }
`);
  return { file, remove: () => rmSync(dirname(file), { recursive: true, force: true }) };
}

/** `cdc run --config file` in a child process (JSON log lines on stdout). */
export function runPipeline(file: string): BackgroundRun {
  return new BackgroundRun(['--config', file]);
}

export interface Order {
  _id: number;
  v: number;
  pad: string;
}

/** Orders with `_id`s [0, count), `v` 0 and 40 bytes of padding, inserted 10,000 at a time. */
export async function insertOrders(orders: Collection<Order>, count: number): Promise<void> {
  for (let start = 0; start < count; start += 10_000) {
    await orders.insertMany(Array.from({ length: Math.min(10_000, count - start) }, (_, i) => ({ _id: start + i, v: 0, pad: 'x'.repeat(40) })));
  }
}

/**
 * Until stopped: rounds of one insert of a new document, two updates of existing ones and, every tenth
 * round, a delete, with a short pause between rounds so the pipeline keeps up. Returns the `_id`s inserted.
 */
export class Writer {
  readonly inserted: number[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly orders: Collection<Order>,
    /** Existing documents have `_id`s [0, existing); new ones count up from `existing`. */
    existing: number,
  ) {
    this.done = this.run(existing);
  }

  async stop(): Promise<number[]> {
    this.stopped = true;
    await this.done;
    return this.inserted;
  }

  private async run(existing: number): Promise<void> {
    for (let round = 0; !this.stopped; round++) {
      const id = existing + round;
      await this.orders.insertOne({ _id: id, v: 0, pad: `new ${round}` });
      this.inserted.push(id);
      // Spread over the whole key range: before and after the snapshot's moving chunk.
      await this.orders.updateOne({ _id: (round * 7919) % existing }, { $inc: { v: 1 } });
      await this.orders.updateOne({ _id: id - 1 }, { $set: { pad: `updated ${round}` } });
      if (round % 10 === 9) await this.orders.deleteOne({ _id: (round * 104_729) % existing });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
