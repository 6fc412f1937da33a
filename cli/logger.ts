import { pino, stdSerializers, type Logger } from 'pino';
import { SecretScrubber } from '../topology/redact.ts';

export interface LoggerOptions {
  /** Every secret of the config (cli/secrets.ts): none of them may reach a log line. */
  secrets: readonly string[];
  /** Debug level and stack traces; info and one-line errors otherwise. */
  verbose: boolean;
  /** The level when not verbose; info by default. */
  level?: 'info' | 'warn';
  /** Where JSON lines go; stdout by default. */
  destination?: { write(line: string): unknown };
}

/**
 * Structured JSON logs, one object per line (pino). Every line passes through the scrubber after
 * serialization, so a secret is removed wherever it hides: a message, an error, a KafkaJS field.
 */
export function createLogger(options: LoggerOptions): Logger {
  const scrubber = new SecretScrubber(options.secrets);
  const destination = options.destination ?? process.stdout;
  return pino(
    {
      level: options.verbose ? 'debug' : (options.level ?? 'info'),
      base: undefined,
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: options.verbose ? stdSerializers.err : (error: unknown) => oneLine(error) },
    },
    { write: (line: string) => destination.write(scrubber.scrub(line)) },
  );
}

/** An error as one line: its message and, when it has one, its stable code. */
export function oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const message = error.message.split('\n')[0]!;
  return typeof code === 'string' && !message.includes(code) ? `${message} [${code}]` : message;
}
