import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../topology/errors.ts';
import type { PipelineConfig } from './config-schema.ts';

const PEM_BLOCK = '-----BEGIN ';

/**
 * `kafka.ssl`'s `ca`, `cert` and `key` as KafkaJS takes them, PEM text: each is given either as the PEM
 * itself (it holds a `-----BEGIN ` line, typically through `${ENV}`) or as the path of a PEM file, which
 * is how TLS files are usually handed out; a relative path is taken from the config file's directory.
 */
export function withPemFiles(config: PipelineConfig, configDir: string): PipelineConfig {
  const { ssl } = config.kafka;
  if (typeof ssl === 'boolean') return config;
  const read = (key: 'ca' | 'cert' | 'key') => {
    const value = ssl[key];
    return value === undefined ? {} : { [key]: pemOrFile(value, `kafka.ssl.${key}`, configDir) };
  };
  return { ...config, kafka: { ...config.kafka, ssl: { ...ssl, ...read('ca'), ...read('cert'), ...read('key') } } };
}

function pemOrFile(value: string, path: string, configDir: string): string {
  if (value.includes(PEM_BLOCK)) return value;
  const file = resolve(configDir, value);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); give the path of a PEM file or the PEM text itself`);
  }
  // The file's content is never echoed: it may be a private key.
  if (!text.includes(PEM_BLOCK)) throw new ConfigError(`${path}: ${file} holds no PEM block (a "${PEM_BLOCK}..." line)`);
  return text;
}
