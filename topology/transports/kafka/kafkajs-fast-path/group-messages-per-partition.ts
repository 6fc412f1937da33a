/**
 * Replaces KafkaJS 2.2.4's src/producer/groupMessagesPerPartition.js, which splits a send's messages by
 * partition: the original copied a partition's array for every message (quadratic: minutes for a send of
 * 200k messages) and called the partitioner, with an argument object, for each. This takes a message's
 * explicit partition as it is (every KafkaJS partitioner returns it), pushes each message once, and hands
 * back the messages' own array when they are all for one partition. Order within a partition is kept.
 *
 * Adapted from KafkaJS 2.2.4, Copyright (c) 2018 Túlio Ornelas, MIT License (LICENSE-kafkajs here).
 */
import type { Message } from './kafkajs-internals.ts';

export interface GroupOptions {
  topic: string;
  partitionMetadata: unknown[];
  messages: Message[];
  partitioner: (options: { topic: string; partitionMetadata: unknown[]; message: Message }) => number;
}

export function groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }: GroupOptions): Record<number, Message[]> {
  if (partitionMetadata.length === 0 || messages.length === 0) return {};

  const partitionOf = (message: Message) => (typeof message.partition === 'number' ? message.partition : partitioner({ topic, partitionMetadata, message }));
  // Each message is asked once: a partitioner may be round-robin.
  const first = partitionOf(messages[0]!);
  let i = 1;
  let partition = first;
  for (; i < messages.length; i++) {
    partition = partitionOf(messages[i]!);
    if (partition !== first) break;
  }
  if (i === messages.length) return { [first]: messages };

  const grouped: Record<number, Message[]> = { [first]: messages.slice(0, i), [partition]: [messages[i]!] };
  for (i++; i < messages.length; i++) {
    const message = messages[i]!;
    partition = partitionOf(message);
    const current = grouped[partition];
    if (current === undefined) grouped[partition] = [message];
    else current.push(message);
  }
  return grouped;
}
