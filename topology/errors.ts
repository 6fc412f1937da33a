/**
 * One error hierarchy with stable codes (as KafkaJS does). `retriable` is the single fact that the
 * retry policy (topology/retry.ts) reads; nothing else decides what is retried.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'UNREACHABLE'
  | 'TOKEN_COMMIT_FAILED'
  | 'POSITION_LOST'
  | 'SOURCE_MISCONFIGURED'
  | 'SCHEMA_INCOMPATIBLE'
  | 'DECODE_FAILED'
  | 'APPLY_REJECTED'
  | 'OPERATOR_FAILED'
  | 'TRANSIENT'
  | 'TOPOLOGY_STOPPED'
  | 'STACK'
  | 'INTERNAL';

export interface CdcErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

/** The root of rxcdc's errors: each has a stable `code` and says whether retrying the same work may succeed. */
export class CdcError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: CdcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Bad configuration: caught before anything connects (CLI exit code 2). */
export class ConfigError extends CdcError {
  constructor(message: string, options?: CdcErrorOptions) {
    super('CONFIG_INVALID', message, options);
  }
}

/** A server (Kafka, registry, database) does not answer (CLI exit code 3). */
export class UnreachableError extends CdcError {
  constructor(message: string, options?: CdcErrorOptions) {
    super('UNREACHABLE', message, { retriable: true, ...options });
  }
}

/** The token could not be made durable: the snapshot must not start. */
export class TokenCommitError extends CdcError {
  constructor(message: string, options?: CdcErrorOptions) {
    super('TOKEN_COMMIT_FAILED', message, options);
  }
}

/** The stored log position is gone (binlog purged, MongoDB ChangeStreamHistoryLost). */
export class PositionLostError extends CdcError {
  constructor(message: string, options?: CdcErrorOptions) {
    super('POSITION_LOST', message, options);
  }
}

/** A server setting or grant keeps the source from capturing (binlog format, grants, ...). */
export class SourceMisconfiguredError extends CdcError {
  constructor(message: string, options?: CdcErrorOptions) {
    super('SOURCE_MISCONFIGURED', message, options);
  }
}

/** The target is busy or gone for a moment (deadlock, lock timeout, connection lost): retry the same work. */
export class TransientError extends CdcError {
  constructor(message: string, options?: CdcErrorOptions) {
    super('TRANSIENT', message, { retriable: true, ...options });
  }
}

/** A user operator threw for an event; with `onError: 'stop'` (the default) it stops the pipeline. */
export class OperatorError extends CdcError {
  constructor(
    /** The operator's name, as given to `through()` or in the config. */
    readonly operator: string,
    cause: unknown,
  ) {
    super('OPERATOR_FAILED', `operator ${operator} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** The topology was stopped before what was awaited happened (RunningTopology.capturing). */
export class TopologyStoppedError extends CdcError {
  constructor(message: string, options?: CdcErrorOptions) {
    super('TOPOLOGY_STOPPED', message, options);
  }
}
