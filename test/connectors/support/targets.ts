import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { MongoClient } from 'mongodb';
import { stackEnv } from '../../support/stack-env.ts';

/** A database (MariaDB), schema (PostgreSQL) or database (MongoDB) of one test, dropped after it. */
export interface Scratch {
  /** Name of the database or schema. */
  name: string;
  /** Connection URL whose default database is the scratch one (MariaDB), else the server's. */
  url: string;
  drop(): Promise<void>;
}

const suffix = () => randomBytes(4).toString('hex');

export async function scratchMariaDb(prefix: string): Promise<Scratch & { connection: mysql.Connection }> {
  const server = stackEnv().MYSQL_URL;
  const name = `cdc_sink_test_${prefix}_${suffix()}`;
  const admin = await mysql.createConnection({ uri: server, multipleStatements: false });
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.query(`USE \`${name}\``);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    connection: admin,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

export async function scratchPostgres(prefix: string): Promise<Scratch & { client: pg.Client }> {
  const url = stackEnv().PG_URL;
  const name = `cdc_sink_test_${prefix}_${suffix()}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE SCHEMA "${name}"`);
  return {
    name,
    url,
    client,
    async drop() {
      await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await client.end();
    },
  };
}

export async function scratchMongo(prefix: string): Promise<Scratch & { client: MongoClient }> {
  const url = stackEnv().MONGODB_URL;
  const name = `cdc_sink_test_${prefix}_${suffix()}`;
  const client = new MongoClient(url);
  await client.connect();
  return {
    name,
    url,
    client,
    async drop() {
      await client.db(name).dropDatabase();
      await client.close();
    },
  };
}
