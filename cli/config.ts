import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../topology/errors.ts';
import { configSchema, type PipelineConfig } from './config-schema.ts';
import { withPemFiles } from './pem-files.ts';

/**
 * Loads a pipeline config: YAML, `${NAME}` replaced from the environment (for secrets), then
 * validated; `kafka.ssl` files are read. Every problem is a ConfigError of one line naming the path (`sources[1].url: ...`).
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the config file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): PipelineConfig {
  let document: unknown;
  try {
    document = parseYaml(text, { prettyErrors: false });
  } catch (error) {
    throw new ConfigError(`${file}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  let substituted: unknown;
  try {
    substituted = substituteEnv(document, env, []);
  } catch (error) {
    throw error instanceof ConfigError ? new ConfigError(`${file}: ${error.message}`) : error;
  }
  const result = configSchema.safeParse(substituted);
  if (!result.success) throw new ConfigError(`${file}: ${describeIssue(result.error.issues[0]!)}`);
  try {
    return withPemFiles(result.data, dirname(file));
  } catch (error) {
    throw error instanceof ConfigError ? new ConfigError(`${file}: ${error.message}`) : error;
  }
}

/** Replaces `${NAME}` in every string; a name that is not set is an error naming where it is used. */
function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const replacement = env[name];
      if (replacement === undefined) throw new ConfigError(`${formatPath(path)}: environment variable ${name} is not set`);
      return replacement;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, env, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteEnv(item, env, [...path, key])]));
  }
  return value;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return `${formatPath([...issue.path, key])}: unknown key (check its spelling; docs/config.md lists the keys)`;
  }
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return `${formatPath(issue.path)}: missing (expected ${issue.expected})`;
  }
  return `${formatPath(issue.path)}: ${issue.message}`;
}

/** `sources[1].url` */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`))
    .join('');
}
