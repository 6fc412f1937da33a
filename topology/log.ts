/**
 * Where the topology says what it does. pino's Logger fits as it is (the CLI passes one); a library user
 * may pass any object with these four methods. Fields are structured (`{ source, table }`), the message
 * is a short fixed phrase, so logs can be filtered by it.
 */
export interface Logger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

const ignore = () => {};

/** The default of a library: silent unless the user passes a logger. */
export const silentLogger: Logger = { error: ignore, warn: ignore, info: ignore, debug: ignore };
