import { readFileSync } from 'node:fs';
import { ENV_FILE } from './paths.ts';

export interface StackEnv {
  KAFKA_BROKERS: string;
  SCHEMA_REGISTRY_URL: string;
  MYSQL_URL: string;
  MONGODB_URL: string;
  PG_URL: string;
}

const NAMES = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'MYSQL_URL', 'MONGODB_URL', 'PG_URL'] as const;

/**
 * The endpoints of the running stack: `.stack/env` as `npm run stack -- up` wrote it, each one
 * overridable from the environment so the same tests run against any other stack.
 */
export function stackEnv(): StackEnv {
  const fromFile: Record<string, string> = {};
  try {
    for (const line of readFileSync(ENV_FILE, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) fromFile[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
  } catch {
    // No file: every name must then come from the environment.
  }
  const env = {} as StackEnv;
  for (const name of NAMES) {
    const value = process.env[name] ?? fromFile[name];
    if (!value) throw new Error(`${name} is not set: run \`npm run stack -- up\` (it writes .stack/env) or export ${name}`);
    env[name] = value;
  }
  return env;
}
