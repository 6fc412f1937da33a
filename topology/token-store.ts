import type { SourceToken, TokenStore } from './token.ts';
import type { OutgoingRecord, Producer, Transport } from './transport.ts';
import { tokenKey } from './token.ts';
import { topics } from './topics.ts';
import { TokenCommitError } from './errors.ts';
import { withRetry } from './retry.ts';

/** What a token holds per table: written apart from the position, and only when it changed. */
type TokenTables = Pick<SourceToken, 'snapshot' | 'captured'>;

/**
 * Tokens on the compacted token topic `<pipeline>.tokens`, one partition so every token of a pipeline is
 * totally ordered. Works on any Transport: on Kafka it is the durable store, on the memory transport the
 * in-memory one.
 *
 * A token is two records. Under tokenKey(pipeline, source), the position and what changes with it (phase,
 * resume data, incremental progress, signal offset): written at every transaction boundary, so small. Under
 * tablesKey, the per-table maps (`snapshot` progress, `captured`), which grow with the number of tables
 * (about 100 bytes each) but change only when a chunk finishes or a table comes or goes: written before the
 * position record it belongs to (in the same transaction when exactly-once), and only when it is another
 * object than the one last written (SourceSession never changes them in place). A source with 2 000
 * tables would otherwise write some 220 KB and spend milliseconds of JSON per transaction.
 */
export class TopicTokenStore implements TokenStore {
  readonly topic: string;
  /** Per source, the table maps last handed out in records(): unchanged ones are not written again. */
  private readonly writtenTables = new Map<string, TokenTables>();

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

  /**
   * The records a token is stored as, in order, so a transactional producer can write them with the
   * events they cover: its table maps when they changed, then its position.
   */
  records(token: SourceToken): OutgoingRecord[] {
    const { snapshot, captured, ...position } = token;
    const records: OutgoingRecord[] = [];
    const written = this.writtenTables.get(token.source);
    if (written === undefined || written.snapshot !== snapshot || written.captured !== captured) {
      this.writtenTables.set(token.source, { snapshot, captured });
      const tables: TokenTables = { ...(snapshot === undefined ? {} : { snapshot }), ...(captured === undefined ? {} : { captured }) };
      records.push(this.record(tablesKey(this.pipeline, token.source), tables));
    }
    records.push(this.record(tokenKey(this.pipeline, token.source), position));
    return records;
  }

  /** Resolves once the broker acknowledged the token (acks=all); TokenCommitError otherwise. */
  async commit(token: SourceToken): Promise<void> {
    const records = this.records(token);
    try {
      await withRetry(`commit the token of source ${token.source}`, () => this.producer.send(records));
    } catch (error) {
      throw new TokenCommitError(`cannot commit the token of source ${token.source} to ${this.topic}: ${(error as Error).message}`, { cause: error });
    }
  }

  async latest(source: string): Promise<SourceToken | undefined> {
    const fold = new TokenFold();
    await this.transport.readToEnd(this.topic, (record) => fold.add(record.key, record.value));
    // The source (re)starts from what is stored: its next token writes its table maps again.
    this.writtenTables.delete(source);
    return fold.latest().get(tokenKey(this.pipeline, source));
  }

  async close(): Promise<void> {
    await this.producer.close();
  }

  private record(key: string, value: unknown): OutgoingRecord {
    return { topic: this.topic, partition: 0, key: Buffer.from(key), value: Buffer.from(JSON.stringify(value)) };
  }
}

/** The key of a source's table maps: its token key and `#tables` (pipeline and source names have no `#`). */
export function tablesKey(pipeline: string, source: string): string {
  return `${tokenKey(pipeline, source)}#tables`;
}

/**
 * Reads the token topic's records, in order, back into tokens: each position record with the table maps
 * written last before it. Tokens of earlier versions carry their maps inline and read as they were written;
 * a tombstone on a token key removes the source's token and maps.
 */
export class TokenFold {
  private readonly positions = new Map<string, SourceToken>();
  private readonly tables = new Map<string, TokenTables>();

  /** Takes the next record; answers the token as of it when it is a position record, else undefined. */
  add(key: Buffer | null | undefined, value: Buffer | null): SourceToken | undefined {
    if (key == null) return undefined;
    const name = key.toString();
    if (name.endsWith('#tables')) {
      const owner = name.slice(0, -'#tables'.length);
      if (value === null) this.tables.delete(owner);
      else this.tables.set(owner, JSON.parse(value.toString()) as TokenTables);
      return undefined;
    }
    if (value === null) {
      this.positions.delete(name);
      this.tables.delete(name);
      return undefined;
    }
    const token = JSON.parse(value.toString()) as SourceToken;
    // Written inline by an earlier version: those are the source's maps from here on.
    if (token.snapshot !== undefined || token.captured !== undefined) this.tables.set(name, { snapshot: token.snapshot, captured: token.captured });
    this.positions.set(name, token);
    return this.tokenOf(name, token);
  }

  /** The latest token per token key (tokenKey(pipeline, source)). */
  latest(): Map<string, SourceToken> {
    return new Map([...this.positions].map(([name, token]) => [name, this.tokenOf(name, token)]));
  }

  private tokenOf(name: string, position: SourceToken): SourceToken {
    const { snapshot, captured } = this.tables.get(name) ?? {};
    return { ...position, ...(snapshot === undefined ? {} : { snapshot }), ...(captured === undefined ? {} : { captured }) };
  }
}

export function tokenTopicSpec(pipeline: string) {
  return { name: topics.tokens(pipeline), partitions: 1, compacted: true };
}
