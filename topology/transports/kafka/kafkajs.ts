/**
 * KafkaJS as the product uses it: loaded after its fast path (./kafkajs-fast-path) is installed. Modules of
 * the product take KafkaJS's values from here, and only types from 'kafkajs' (eslint.config.js refuses the
 * rest): a static import of a CommonJS module such as kafkajs runs it while Node links the import graph,
 * before any module of that graph is evaluated, so before the fast path could put its modules in place.
 */
import { createRequire } from 'node:module';
import './kafkajs-fast-path/index.ts';

const require = createRequire(import.meta.url);

export const kafkajs = require('kafkajs') as typeof import('kafkajs');

export const Kafka = kafkajs.Kafka;
export type Kafka = import('kafkajs').Kafka;
export const logLevel = kafkajs.logLevel;
export type logLevel = import('kafkajs').logLevel;
export const Partitioners = kafkajs.Partitioners;
export const ConfigResourceTypes = kafkajs.ConfigResourceTypes;
