import { passwordsOf } from '../topology/redact.ts';
import { basicCredentials } from './basic-auth.ts';
import type { PipelineConfig } from './config-schema.ts';

export { redactUrls, SecretScrubber } from '../topology/redact.ts';

/**
 * Every secret a config holds: URL passwords, the SASL password, the registry password, a TLS client key,
 * the console's password (and the basic-auth credentials it makes, which carry it in base64).
 */
export function secretsOf(config: PipelineConfig): string[] {
  const urls = [...config.sources.map((s) => s.url), ...config.sinks.map((s) => s.url), config.schemaRegistry.url];
  const fromUrls = urls.flatMap((url) => passwordsOf(url).slice(-1));
  const tlsKey = typeof config.kafka.ssl === 'object' ? config.kafka.ssl.key : undefined;
  const { auth } = config.metrics;
  const consoleSecrets = auth ? [auth.password, basicCredentials(auth)] : [];
  return [...fromUrls, config.kafka.sasl?.password, config.schemaRegistry.password, tlsKey, ...consoleSecrets].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length > 0,
  );
}
