/**
 * What the local test server (mongo-java-server: a standalone server, wire version 8) cannot do is refused
 * by check() before anything is captured, naming what to change: a database-level change stream (its
 * `db.watch()` silently watches a collection named `1` instead) and post-images (MongoDB 6.0+). The
 * behaviour of both against a server that has them is covered by source-real-mongodb.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceMisconfiguredError } from '../../../topology/errors.ts';
import { MongoSource } from '../../../connectors/mongodb/source.ts';
import { stackEnv } from '../../support/stack-env.ts';

const url = stackEnv().MONGODB_URL;

test('on a standalone server check() refuses scope: database and post-images, naming the setting to use instead', async () => {
  const refusals: Array<[ConstructorParameters<typeof MongoSource>[0], RegExp]> = [
    [{ name: 'db', url, database: 'shop', scope: 'database' }, /scope: database needs a database-level change stream.*standalone server: use scope: collection/],
    [{ name: 'post', url, database: 'shop', fullDocument: 'required' }, /fullDocument: required needs post-images \(MongoDB 6\.0\+\).*use fullDocument: updateLookup/],
    [{ name: 'post', url, database: 'shop', fullDocument: 'whenAvailable' }, /fullDocument: whenAvailable needs post-images/],
  ];
  for (const [config, message] of refusals) {
    const source = new MongoSource(config);
    try {
      await assert.rejects(source.check(), (error: unknown) => error instanceof SourceMisconfiguredError && message.test(error.message));
    } finally {
      await source.close();
    }
  }
  const accepted = new MongoSource({ name: 'default', url, database: 'shop' });
  try {
    await accepted.check();
  } finally {
    await accepted.close();
  }
});
