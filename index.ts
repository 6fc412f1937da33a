/**
 * rxcdc: change data capture as an RxJS topology. This module is the package's public API: what it
 * exports is supported and documented (README "Use it as a library"); everything else in the package is
 * internal and may change. Connectors are in their own entries (`rxcdc/mysql`, `rxcdc/mongodb`,
 * `rxcdc/postgres`), the broker-free transport and test helpers in `rxcdc/testing`.
 */

// Building and running a topology.
export {
  TopologyBuilder,
  Topology,
  type TopologyOptions,
  type ThroughOptions,
  type SpreadSnapshotOptions,
  type StartOptions,
  type StageSelection,
  type RunningTopology,
  type TopologyDescription,
  type StageDescription,
  type TopicDescription,
} from './topology/topology.ts';
export { stopOnSignals, type StopOnSignalsOptions } from './topology/shutdown.ts';
export { replaySink, type ReplayFrom } from './topology/replay.ts';
export { PipelineMetrics, type Health, type SourcePhase, type SourceState, type TableProgress } from './topology/metrics.ts';
export { silentLogger, type Logger } from './topology/log.ts';
export type { SnapshotMode } from './topology/source-runner.ts';

// Incremental snapshots (docs/incremental-snapshots.md): Topology.requestSnapshot's options and answer,
// and the notifications sources write about their snapshots (docs/notifications.md).
export type { SnapshotWait, SnapshotRequestOptions, SnapshotRequestResult, RefusedTable } from './topology/snapshot-request.ts';
export type { SnapshotSignal } from './topology/signals.ts';
export { followNotifications, type Notification, type NotificationRecord, type NotificationFollower } from './topology/notifications.ts';

// Operators: plain RxJS operators over change events.
export type { ChangeOperator, NamedOperator, OperatorErrorPolicy, OperatorFactory } from './topology/operator-stage.ts';
export { maskColumns } from './topology/operators/mask-columns.ts';
export { routeToTopic, type RoutingOperator } from './topology/operators/route-to-topic.ts';
export { composeOperators } from './topology/operators/compose-operators.ts';

// The change event.
export { comparePositions, type ChangeEvent, type Op, type Row, type Value, type SourceInfo, type TableSchema, type ColumnSchema } from './topology/change-event.ts';

// Connector contracts, for writing a source or a sink of your own.
export type { SourceConnector, SnapshotItem, StreamItem, LogPosition, StreamCursor, IncrementalChunk, SplitTable } from './topology/source.ts';
export type { SinkConnector, SinkRecord, RejectedRecord } from './topology/sink.ts';

// Serdes and the schema registry.
export type { EventSerde, EncodedRecord, RawRecord } from './topology/serde.ts';
export { AvroEventSerde, type AvroSerdeOptions } from './serdes/avro-serde.ts';
export { ConfluentSchemaRegistry, type SchemaRegistryPort } from './serdes/registry.ts';
export { topicNameStrategy, recordNameStrategy, topicRecordNameStrategy, type SubjectNameStrategy } from './serdes/subject-name.ts';
export { JsonSerde } from './topology/json-serde.ts';

// Transports.
export type { Transport, TopicSpec, OutgoingRecord, ConsumedRecord, PartitionOffset } from './topology/transport.ts';
export { KafkaTransport, kafkaJsFastPath, type KafkaTransportOptions, type KafkaJsFastPathStatus } from './topology/transports/kafka.ts';

// Errors: one hierarchy, each with a stable `code`.
export {
  CdcError,
  ConfigError,
  UnreachableError,
  TokenCommitError,
  PositionLostError,
  SourceMisconfiguredError,
  TransientError,
  OperatorError,
  TopologyStoppedError,
  type ErrorCode,
} from './topology/errors.ts';
export { DecodeError, SchemaIncompatibleError } from './serdes/errors.ts';
