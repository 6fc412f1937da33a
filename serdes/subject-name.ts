/**
 * Subject naming strategies, as Confluent's serializers name them (`subject.name.strategy`).
 * `recordName` is the full name of the key or value record (`<prefix>.<db>.<table>.Key|Envelope`).
 */
export type SubjectNameStrategy = (topic: string, recordName: string, isKey: boolean) => string;

/** `<topic>-key` / `<topic>-value`: the default, one schema lineage per topic. */
export const topicNameStrategy: SubjectNameStrategy = (topic, _recordName, isKey) => `${topic}-${isKey ? 'key' : 'value'}`;

/** The record's full name: one lineage per table, whatever topics carry it. */
export const recordNameStrategy: SubjectNameStrategy = (_topic, recordName) => recordName;

/** `<topic>-<record name>`: several tables in one topic, each with its own lineage. */
export const topicRecordNameStrategy: SubjectNameStrategy = (topic, recordName) => `${topic}-${recordName}`;
