import type { Pool } from 'mysql2/promise';

/** What check() looks at: global variables, the grants of the connected user, and who that is. */
export interface ServerFacts {
  /** Lower-case variable name → value, for the variables in CHECKED_VARIABLES the server has. */
  variables: Record<string, string>;
  /** Lines of SHOW GRANTS for the connected user. */
  grants: string[];
  /** CURRENT_USER() as `user@host`. */
  user: string;
}

const CHECKED_VARIABLES = ['log_bin', 'binlog_format', 'binlog_row_image', 'binlog_transaction_compression'];

export async function readServerFacts(pool: Pool): Promise<ServerFacts> {
  const [variableRows] = (await pool.query('SHOW GLOBAL VARIABLES WHERE Variable_name IN (?)', [CHECKED_VARIABLES])) as unknown as [
    Array<{ Variable_name: string; Value: string }>,
  ];
  const [grantRows] = (await pool.query('SHOW GRANTS')) as unknown as [Array<Record<string, string>>];
  const [[current]] = (await pool.query('SELECT CURRENT_USER() AS user')) as unknown as [[{ user: string }]];
  const variables: Record<string, string> = {};
  for (const { Variable_name, Value } of variableRows) variables[Variable_name.toLowerCase()] = Value;
  return { variables, grants: grantRows.map((row) => Object.values(row)[0] ?? ''), user: current.user };
}

/** Every setting or grant that keeps the source from capturing, each one line naming what to change and how. */
export function misconfigurations(facts: ServerFacts): string[] {
  const problems: string[] = [];
  const { variables } = facts;
  if (variables.log_bin !== undefined && variables.log_bin.toUpperCase() !== 'ON') {
    problems.push(`log_bin is ${variables.log_bin}: start the server with log_bin=binlog in its config and restart it, so changes are written to a binary log`);
  }
  const format = variables.binlog_format?.toUpperCase();
  if (format !== undefined && format !== 'ROW') {
    problems.push(`binlog_format is ${format}: set binlog_format=ROW in the server config (SET GLOBAL binlog_format=ROW) so row changes are captured`);
  }
  const image = variables.binlog_row_image?.toUpperCase();
  if (image !== undefined && image !== 'FULL') {
    problems.push(
      `binlog_row_image is ${image}: set binlog_row_image=FULL in the server config (SET GLOBAL binlog_row_image=FULL) so updates and deletes carry whole rows`,
    );
  }
  if (variables.binlog_transaction_compression?.toUpperCase() === 'ON') {
    problems.push(
      'binlog_transaction_compression is ON: set binlog_transaction_compression=OFF (SET GLOBAL binlog_transaction_compression=OFF) because compressed transaction payloads cannot be decoded',
    );
  }
  problems.push(...missingGrants(facts));
  return problems;
}

/**
 * Grants needed: REPLICATION SLAVE (read the binlog), REPLICATION CLIENT or MariaDB's BINLOG MONITOR
 * (SHOW MASTER STATUS / SHOW BINARY LOGS), SELECT (snapshot, information_schema). Only global grants
 * count for the replication ones; SELECT may be on the captured databases only.
 */
function missingGrants({ grants, user }: ServerFacts): string[] {
  const global = new Set<string>();
  let select = false;
  for (const line of grants) {
    const match = /^GRANT (.+?) ON (\S+) TO /i.exec(line);
    if (!match) continue;
    const privileges = match[1]!.toUpperCase().split(/\s*,\s*/);
    if (privileges.includes('ALL PRIVILEGES') || privileges.includes('SELECT')) select = true;
    if (match[2] === '*.*') for (const privilege of privileges) global.add(privilege);
  }
  if (global.has('ALL PRIVILEGES')) return [];
  const problems: string[] = [];
  const grantee = quoteGrantee(user);
  if (!global.has('REPLICATION SLAVE') && !global.has('REPLICATION REPLICA')) {
    problems.push(`user ${user} lacks REPLICATION SLAVE: GRANT REPLICATION SLAVE ON *.* TO ${grantee} so it can read the binlog`);
  }
  if (!global.has('REPLICATION CLIENT') && !global.has('BINLOG MONITOR')) {
    problems.push(
      `user ${user} lacks REPLICATION CLIENT (BINLOG MONITOR on MariaDB): GRANT REPLICATION CLIENT ON *.* TO ${grantee} so it can read the binlog position`,
    );
  }
  if (!select) problems.push(`user ${user} lacks SELECT: GRANT SELECT ON *.* (or on the captured databases) TO ${grantee} so tables can be snapshotted`);
  return problems;
}

function quoteGrantee(user: string): string {
  const at = user.lastIndexOf('@');
  return `'${user.slice(0, at)}'@'${user.slice(at + 1)}'`;
}
