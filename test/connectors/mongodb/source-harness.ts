/** Shared by the MongoDB source tests: a fresh database per test, and a recorder for a source's items. */
import { randomUUID } from 'node:crypto';
import { BSON, MongoClient, type Db } from 'mongodb';
import type { Observable, Subscription } from 'rxjs';
import type { ChangeEvent } from '../../../topology/change-event.ts';
import type { LogPosition, StreamItem } from '../../../topology/source.ts';
import { stackEnv } from '../../support/stack-env.ts';

export interface TestDatabase {
  client: MongoClient;
  db: Db;
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function freshDatabase(prefix: string): Promise<TestDatabase> {
  const url = stackEnv().MONGODB_URL;
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  const db = client.db(name);
  return {
    client,
    db,
    name,
    url,
    drop: async () => {
      await db.dropDatabase();
      await client.close();
    },
  };
}

/** Records what an Observable emits; `until` resolves once the recorded items satisfy a condition. */
export class Recorder<T> {
  readonly items: T[] = [];
  private readonly waiters: Array<() => void> = [];
  private failure: unknown;
  private completed = false;
  private readonly subscription: Subscription;

  constructor(source: Observable<T>) {
    this.subscription = source.subscribe({
      next: (item) => {
        this.items.push(item);
        this.wake();
      },
      error: (error: unknown) => {
        this.failure = error;
        this.wake();
      },
      complete: () => {
        this.completed = true;
        this.wake();
      },
    });
  }

  /** Resolves when `condition` holds (checked after every item); rejects if the source fails first. */
  async until(condition: (items: T[]) => boolean): Promise<T[]> {
    while (!condition(this.items)) {
      if (this.failure !== undefined) throw this.failure;
      if (this.completed) throw new Error(`completed after ${this.items.length} items without meeting the condition`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.items;
  }

  /** Resolves when the source completes; rejects with its error. */
  async done(): Promise<T[]> {
    await this.until(() => this.completed);
    return this.items;
  }

  /** Resolves with the error the source fails with. */
  async failed(): Promise<unknown> {
    while (this.failure === undefined) {
      if (this.completed) throw new Error('completed without an error');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.failure;
  }

  stop(): void {
    this.subscription.unsubscribe();
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

export function changesOf(items: StreamItem[]): ChangeEvent[] {
  return items.flatMap((item) => (item.kind === 'change' ? [item.event] : []));
}

export { snapshotRows as rowsOf } from '../../support/snapshot-items.ts';

export function lastCommit(items: StreamItem[]): LogPosition {
  const commits = items.flatMap((item) => (item.kind === 'commit' ? [item.position] : []));
  const last = commits.at(-1);
  if (last === undefined) throw new Error('no commit item yet');
  return last;
}

/** Per map applyInOrder filled, the position that wrote each `_id` (what a sink's `__cdc_pos` holds). */
const writtenAt = new WeakMap<Map<string, string>, Map<string, string>>();

/** Applies events in order the way an idempotent sink does: a map from canonical `_id` to canonical document. */
export function applyInOrder(events: ChangeEvent[], into = new Map<string, string>()): Map<string, string> {
  let positions = writtenAt.get(into);
  if (positions === undefined) writtenAt.set(into, (positions = new Map()));
  for (const event of events) {
    if (event.op === 't') {
      for (const [id, position] of positions) {
        if (position >= event.source.position) continue;
        into.delete(id);
        positions.delete(id);
      }
      continue;
    }
    const id = event.key._id as string;
    if (event.op === 'd') {
      into.delete(id);
      positions.delete(id);
    } else {
      into.set(id, (event.after as { doc: string }).doc);
      positions.set(id, event.source.position);
    }
  }
  return into;
}

/** The collection's documents as the same map. */
export async function collectionState(db: Db, collection: string): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  for await (const document of db.collection(collection).find({}, { promoteValues: false, promoteLongs: false, bsonRegExp: true })) {
    state.set(canonical(document._id), canonical(document));
  }
  return state;
}

export function canonical(value: unknown): string {
  return BSON.EJSON.stringify(value, { relaxed: false });
}

/** Whether the changes seen so far include one for each of these `_id`s (canonical Extended JSON). */
export function seesAll(ids: string[]): (items: StreamItem[]) => boolean {
  return (items) => {
    const seen = new Set(changesOf(items).map((event) => event.key._id as string));
    return ids.every((id) => seen.has(id));
  };
}
