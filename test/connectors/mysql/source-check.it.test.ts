import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FlowControl } from '../../../topology/flow-control.ts';
import { PositionLostError, SourceMisconfiguredError } from '../../../topology/errors.ts';
import type { SourceToken } from '../../../topology/token.ts';
import { itemsUntil, withSourceDatabase } from './source-fixture.ts';

test('check() passes for a user with replication grants and names the missing grants of one without', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ db, url, admin, source: makeSource }) => {
    await makeSource().check();
    const [[{ host }]] = (await admin.query("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', -1) AS host")) as unknown as [[{ host: string }]];
    const user = `cdc_limited_${randomUUID().slice(0, 8)}`;
    const password = randomUUID();
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password]);
    try {
      await admin.query(`GRANT SELECT ON \`${db}\`.* TO ?@?`, [user, host]);
      const limitedUrl = new URL(url);
      limitedUrl.username = user;
      limitedUrl.password = password;
      const error = await makeSource({ url: limitedUrl.toString() }).check().then(
        () => assert.fail('check() accepted a user without replication grants'),
        (rejection: unknown) => rejection,
      );
      assert.ok(error instanceof SourceMisconfiguredError);
      assert.match(error.message, /lacks REPLICATION SLAVE: GRANT REPLICATION SLAVE ON \*\.\* TO /);
      assert.match(error.message, /lacks REPLICATION CLIENT/);
      assert.doesNotMatch(error.message, /lacks SELECT/);
      assert.ok(!error.message.includes(password), 'the password is not in the error');
      assert.equal(error.message.split('\n').length, 1);
    } finally {
      await admin.query('DROP USER ?@?', [user, host]);
    }
  });
});

test('a token whose binlog file is not on the server cannot resume, and streaming from it is PositionLostError', { timeout: 60_000 }, async () => {
  await withSourceDatabase(async ({ source: makeSource }) => {
    const source = makeSource();
    const opened = await source.openLog();
    const token: SourceToken = { pipeline: 'p', source: 'test', phase: 'streaming', ...opened, writtenAt: Date.now() };
    assert.equal(await source.canResume(token), true);

    const gone = { position: opened.position, resume: { ...opened.resume, file: 'binlog.999999', pos: 4 } };
    assert.equal(await source.canResume({ ...token, ...gone }), false);
    const error = await itemsUntil(source.stream(gone, new FlowControl()), () => true).then(
      () => assert.fail('streaming from a missing binlog succeeded'),
      (rejection: unknown) => rejection,
    );
    assert.ok(error instanceof PositionLostError);
    assert.match(error.message, /binlog binlog\.999999 .* snapshot: when_needed/);
  });
});
