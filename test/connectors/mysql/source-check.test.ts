import { test } from 'node:test';
import assert from 'node:assert/strict';
import { misconfigurations, type ServerFacts } from '../../../connectors/mysql/server-check.ts';

const GOOD: ServerFacts = {
  variables: { log_bin: 'ON', binlog_format: 'ROW', binlog_row_image: 'FULL', binlog_transaction_compression: 'OFF' },
  grants: ["GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `cdc`@`%`"],
  user: 'cdc@%',
};

test('a server with ROW/FULL binlog and replication grants has nothing to change', () => {
  assert.deepEqual(misconfigurations(GOOD), []);
  assert.deepEqual(misconfigurations({ ...GOOD, grants: ['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION'] }), []);
  assert.deepEqual(misconfigurations({ ...GOOD, grants: ['GRANT BINLOG MONITOR, REPLICATION SLAVE ON *.* TO `cdc`@`%`', 'GRANT SELECT ON `shop`.* TO `cdc`@`%`'] }), []);
});

test('each binlog setting that keeps rows from being captured is one line naming the setting and how to change it', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ binlog_format: 'MIXED' }, 'binlog_format is MIXED: set binlog_format=ROW in the server config (SET GLOBAL binlog_format=ROW) so row changes are captured'],
    [{ binlog_format: 'STATEMENT' }, 'binlog_format is STATEMENT: set binlog_format=ROW'],
    [{ binlog_row_image: 'MINIMAL' }, 'binlog_row_image is MINIMAL: set binlog_row_image=FULL'],
    [{ log_bin: 'OFF' }, 'log_bin is OFF: start the server with log_bin=binlog'],
    [{ binlog_transaction_compression: 'ON' }, 'binlog_transaction_compression is ON: set binlog_transaction_compression=OFF'],
  ];
  for (const [changed, expected] of cases) {
    const problems = misconfigurations({ ...GOOD, variables: { ...GOOD.variables, ...changed } });
    assert.equal(problems.length, 1, JSON.stringify(changed));
    assert.ok(problems[0]!.startsWith(expected), problems[0]);
    assert.ok(!problems[0]!.includes('\n'));
  }
});

test('missing grants are named with the GRANT statement that adds them', () => {
  const problems = misconfigurations({ ...GOOD, grants: ['GRANT USAGE ON *.* TO `app`@`%`', 'GRANT SELECT ON `shop`.* TO `app`@`%`'], user: 'app@%' });
  assert.deepEqual(problems, [
    "user app@% lacks REPLICATION SLAVE: GRANT REPLICATION SLAVE ON *.* TO 'app'@'%' so it can read the binlog",
    "user app@% lacks REPLICATION CLIENT (BINLOG MONITOR on MariaDB): GRANT REPLICATION CLIENT ON *.* TO 'app'@'%' so it can read the binlog position",
  ]);
  assert.match(misconfigurations({ ...GOOD, grants: ['GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `app`@`%`'] }).join(), /lacks SELECT/);
});
