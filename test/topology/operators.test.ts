import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { delay, filter } from 'rxjs';
import { maskColumns } from '../../topology/operators/mask-columns.ts';
import { outputTopicsOf, routeToTopic } from '../../topology/operators/route-to-topic.ts';
import { OperatorStage } from '../../topology/operator-stage.ts';
import { changeEvent } from './support/fake-source.ts';
import type { ChangeEvent } from '../../topology/change-event.ts';

const scheduler = () => new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));

test('maskColumns masks the named columns in before and after, keeps NULL and the key', () => {
  const a = changeEvent('u', 'users', 1, { id: 1, email: 'a@x', phone: null }, { id: 1, email: 'b@x', phone: null }, '1', false);
  const b = changeEvent('d', 'users', 2, { id: 2, email: 'c@x', phone: '12' }, null, '2', false);
  scheduler().run(({ cold, expectObservable }) => {
    expectObservable(cold('-a-b|', { a, b }).pipe(maskColumns(['email', 'phone']))).toBe('-a-b|', {
      a: { ...a, before: { id: 1, email: '***', phone: null }, after: { id: 1, email: '***', phone: null } },
      b: { ...b, before: { id: 2, email: '***', phone: '***' }, after: null },
    });
  });
});

test('maskColumns leaves rows without those columns as they are (same object)', () => {
  const a = changeEvent('c', 'orders', 1, null, { id: 1, total: 3 }, '1', false);
  scheduler().run(({ cold, expectObservable }) => {
    expectObservable(cold('a|', { a }).pipe(maskColumns(['email']))).toBe('a|', { a });
  });
});

test('routeToTopic sets the topic of the events it selects and declares it', () => {
  const a = changeEvent('c', 'orders', 1, null, { id: 1 }, '1', false);
  const b = changeEvent('c', 'users', 1, null, { id: 1 }, '1', false);
  const route = routeToTopic('team.orders', (event) => event.source.table === 'orders');
  assert.deepEqual(outputTopicsOf(route), ['team.orders']);
  assert.deepEqual(outputTopicsOf(filter(() => true)), []);
  scheduler().run(({ cold, expectObservable }) => {
    expectObservable(cold('ab|', { a, b }).pipe(route)).toBe('ab|', { a: { ...a, topic: 'team.orders' }, b });
  });
});

test('an OperatorStage returns each input event’s outputs at once', () => {
  const stage = new OperatorStage([{ name: 'no-deletes', operator: filter((event: ChangeEvent) => event.op !== 'd') }]);
  const out: ChangeEvent[] = [];
  stage.feed(changeEvent('c', 't', 1, null, { id: 1 }, '1', false), out);
  stage.feed(changeEvent('d', 't', 1, { id: 1 }, null, '2', false), out);
  assert.deepEqual(out.map((event) => event.op), ['c']);
});

test('an OperatorStage refuses an operator that emits later than its input', async () => {
  const stage = new OperatorStage([{ name: 'late', operator: delay(0) }]);
  const out: ChangeEvent[] = [];
  stage.feed(changeEvent('c', 't', 1, null, { id: 1 }, '1', false), out);
  assert.deepEqual(out, []);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.throws(() => stage.feed(changeEvent('c', 't', 2, null, { id: 2 }, '2', false), out), /operators late emitted an event after their input was handled/);
});
