import type { PipelineConfig } from './config-schema.ts';

const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)([^:/?#@\s]*):([^@/?#\s]*)@/gi;

/** `mysql://u:secret@host/db` → `mysql://u:***@host/db`: for any text that may hold a connection URL. */
export function redactUrls(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1$2:***@');
}

/** Every secret a config holds: URL passwords, the SASL password, the registry password. */
export function secretsOf(config: PipelineConfig): string[] {
  const urls = [...config.sources.map((s) => s.url), ...config.sinks.map((s) => s.url), config.schemaRegistry.url];
  const fromUrls = urls.flatMap((value) => {
    try {
      const password = decodeURIComponent(new URL(value).password);
      return password ? [password] : [];
    } catch {
      return [];
    }
  });
  return [...fromUrls, config.kafka.sasl?.password, config.schemaRegistry.password].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length > 0,
  );
}

/**
 * Removes secrets from text bound for logs, `status` output and error messages: URL credentials by
 * shape, and each known secret wherever it appears (a driver may echo one in its own words).
 */
export class SecretScrubber {
  private readonly secrets: string[];

  constructor(secrets: readonly string[]) {
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...new Set(secrets)].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let result = redactUrls(text);
    for (const secret of this.secrets) result = result.split(secret).join('***');
    return result;
  }
}
