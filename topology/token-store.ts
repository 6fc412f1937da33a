import type { SourceToken, TokenStore } from './token.ts';
import type { OutgoingRecord, Producer, Transport } from './transport.ts';
import { tokenKey } from './token.ts';
import { topics } from './topics.ts';
import { TokenCommitError } from './errors.ts';
import { withRetry } from './retry.ts';

/**
 * Tokens on the compacted token topic `<pipeline>.tokens`, keyed by tokenKey(pipeline, source), one
 * partition so every token of a pipeline is totally ordered. Works on any Transport: on Kafka it is the
 * durable store, on the memory transport the in-memory one.
 */
export class TopicTokenStore implements TokenStore {
  readonly topic: string;

  private constructor(
    private readonly transport: Transport,
    private readonly pipeline: string,
    private readonly producer: Producer,
  ) {
    this.topic = topics.tokens(pipeline);
  }

  /** Creates the token topic (compacted) if missing. */
  static async open(transport: Transport, pipeline: string): Promise<TopicTokenStore> {
    await transport.createTopics([tokenTopicSpec(pipeline)]);
    return new TopicTokenStore(transport, pipeline, await transport.producer());
  }

  /** The record a token is stored as, so a transactional producer can write it with the events it covers. */
  record(token: SourceToken): OutgoingRecord {
    return {
      topic: this.topic,
      partition: 0,
      key: Buffer.from(tokenKey(this.pipeline, token.source)),
      value: Buffer.from(JSON.stringify(token)),
    };
  }

  /** Resolves once the broker acknowledged the token (acks=all); TokenCommitError otherwise. */
  async commit(token: SourceToken): Promise<void> {
    try {
      await withRetry(`commit the token of source ${token.source}`, () => this.producer.send([this.record(token)]));
    } catch (error) {
      throw new TokenCommitError(`cannot commit the token of source ${token.source} to ${this.topic}: ${(error as Error).message}`, { cause: error });
    }
  }

  async latest(source: string): Promise<SourceToken | undefined> {
    const key = tokenKey(this.pipeline, source);
    let latest: SourceToken | undefined;
    await this.transport.readToEnd(this.topic, (record) => {
      if (record.key?.toString() !== key) return;
      latest = record.value === null ? undefined : (JSON.parse(record.value.toString()) as SourceToken);
    });
    return latest;
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

export function tokenTopicSpec(pipeline: string) {
  return { name: topics.tokens(pipeline), partitions: 1, compacted: true };
}
