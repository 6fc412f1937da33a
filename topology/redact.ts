/**
 * Keeping secrets out of logs, status output and error messages: the one place that knows how.
 * The CLI scrubs with every secret of its config (cli/secrets.ts); connectors with their own URL's.
 */

// The password runs to the last `@` before the host: a raw `?` or `#` in it (unencoded, as people
// write them) is still masked.
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)([^:/?#@\s]*):([^@/\s]*)@/gi;

/** `mysql://u:secret@host/db` → `mysql://u:***@host/db`, wherever a URL appears in the text. */
export function redactUrls(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1$2:***@');
}

/** The password of a connection URL, as written and decoded (a driver may echo either); none if it has none. */
export function passwordsOf(url: string): string[] {
  const password = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:([^@/\s]*)@/i.exec(url)?.[1];
  if (!password) return [];
  try {
    return [password, decodeURIComponent(password)];
  } catch {
    return [password];
  }
}

/** Removes URL credentials by shape, and each known secret wherever it appears. */
export class SecretScrubber {
  private readonly secrets: string[];

  constructor(secrets: readonly string[]) {
    // Longest first, so a secret that contains another is replaced whole.
    this.secrets = [...new Set(secrets)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let result = redactUrls(text);
    for (const secret of this.secrets) result = result.split(secret).join('***');
    return result;
  }
}
