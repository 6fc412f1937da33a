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

/** The stack's broker's second listener: SASL_SSL (SCRAM-SHA-256/512) with a CA of the stack's own. */
export interface SecureKafkaEnv {
  KAFKA_SECURE_BROKERS: string;
  /** The path of the CA's certificate (PEM) that signed the broker's. */
  KAFKA_SECURE_CA: string;
  KAFKA_SASL_USERNAME: string;
  KAFKA_SASL_PASSWORD: string;
}

export const KAFKA_SECURE_NAMES = ['KAFKA_SECURE_BROKERS', 'KAFKA_SECURE_CA', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const;

/**
 * The endpoints of the running stack: `.stack/env` as `npm run stack -- up` wrote it, each one
 * overridable from the environment so the same tests run against any other stack.
 */
export function stackEnv(): StackEnv {
  return pick(NAMES);
}

/** The secure listener's endpoint, CA and SCRAM user, the same way (only the tests of that listener need it). */
export function secureKafkaEnv(): SecureKafkaEnv {
  return pick(KAFKA_SECURE_NAMES);
}

function pick<Name extends string>(names: readonly Name[]): Record<Name, string> {
  const fromFile: Record<string, string> = {};
  try {
    for (const line of readFileSync(ENV_FILE, 'utf8').split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) fromFile[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
  } catch {
    // No file: every name must then come from the environment.
  }
  const env = {} as Record<Name, string>;
  for (const name of names) {
    const value = process.env[name] ?? fromFile[name];
    if (!value) throw new Error(`${name} is not set: run \`npm run stack -- up\` (it writes .stack/env) or export ${name}`);
    env[name] = value;
  }
  return env;
}
