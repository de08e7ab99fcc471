import { describe, expect, it } from 'vitest';
import { parseSparkAddress } from './connect-client.js';
import {
  decodeExecuteResponse, decodeInterruptResponse, decodeSparkVersionResponse, encodeExecutePlan, encodeInterrupt, encodeReleaseSession, encodeSparkVersionRequest,
} from './connect-messages.js';
import { fieldText, ProtoWriter, readFields, type ProtoField } from './protowire.js';

/** A decoded message as nested plain data: field number -> values (strings, bigints, nested objects). */
type Tree = Record<number, (string | bigint | Tree)[]>;
function tree(buf: Uint8Array, nested: readonly number[][] = [], at: number[] = []): Tree {
  const out: Tree = {};
  for (const f of readFields(buf) as Iterable<ProtoField>) {
    const pathHere = [...at, f.field];
    const isNested = nested.some((p) => p.join('.') === pathHere.join('.'));
    const value = f.wire === 'varint' ? f.value : isNested && f.wire === 'bytes' ? tree(f.value, nested, pathHere) : fieldText(f);
    (out[f.field] ??= []).push(value);
  }
  return out;
}

const who = { sessionId: '00112233-4455-6677-8899-aabbccddeeff', userId: 'tm' };

describe('Spark Connect messages on the protobuf wire', () => {
  it('encodes a SQL command as Plan.command.sql_command.input.sql.query', () => {
    const request = encodeExecutePlan(who, 'op-1', { command: 'INSERT OVERWRITE DIRECTORY x SELECT 1' }, ['tm-run']);
    expect(tree(request, [[2], [3], [3, 2], [3, 2, 5], [3, 2, 5, 6], [3, 2, 5, 6, 10]])).toEqual({
      1: [who.sessionId],
      2: [{ 1: ['tm'], 2: ['tm'] }],
      3: [{ 2: [{ 5: [{ 6: [{ 10: [{ 1: ['INSERT OVERWRITE DIRECTORY x SELECT 1'] }] }] }] }] }],
      4: ['tm'],
      6: ['op-1'],
      7: ['tm-run'],
    });
  });

  it('encodes a query as Plan.root.sql.query', () => {
    const request = encodeExecutePlan(who, 'op-2', { query: 'SELECT 1' });
    expect(tree(request, [[3], [3, 1], [3, 1, 10]])[3]).toEqual([{ 1: [{ 10: [{ 1: ['SELECT 1'] }] }] }]);
  });

  it('encodes interrupts of one operation, a tag, or all', () => {
    expect(tree(encodeInterrupt(who, { operationId: 'op-1' }))).toMatchObject({ 4: [3n], 6: ['op-1'] });
    expect(tree(encodeInterrupt(who, { tag: 't' }))).toMatchObject({ 4: [2n], 5: ['t'] });
    const all = tree(encodeInterrupt(who, 'all'));
    expect(all[4]).toEqual([1n]);
    expect(all[5] ?? all[6]).toBeUndefined();
  });

  it('asks the Spark version (AnalyzePlan) and releases the session', () => {
    expect(tree(encodeSparkVersionRequest(who), [[2]])).toEqual({ 1: [who.sessionId], 2: [{ 1: ['tm'], 2: ['tm'] }], 3: ['tm'], 10: [''] });
    expect(decodeSparkVersionResponse(new ProtoWriter().string(1, 's').message(8, (v) => v.string(1, '4.0.1')).finish())).toBe('4.0.1');
    expect(tree(encodeReleaseSession(who), [[2]])).toEqual({ 1: [who.sessionId], 2: [{ 1: ['tm'], 2: ['tm'] }], 3: ['tm'] });
  });

  it('decodes responses and skips the fields tm does not use', () => {
    const response = new ProtoWriter()
      .string(1, who.sessionId)
      .message(2, (batch) => batch.uint(1, 3).bytes(2, Uint8Array.of(1, 2, 3)))
      .message(4, (metrics) => metrics.string(1, 'ignored'))
      .uint(99, 123_456_789_012n)
      .string(12, 'op-9')
      .string(15, 'server-session')
      .finish();
    const decoded = decodeExecuteResponse(response);
    expect(decoded).toMatchObject({ operationId: 'op-9', serverSideSessionId: 'server-session', resultComplete: false });
    expect(decoded.arrowBatch?.rowCount).toBe(3n);
    expect([...(decoded.arrowBatch?.data ?? [])]).toEqual([1, 2, 3]);
    expect(decodeExecuteResponse(new ProtoWriter().message(14, () => undefined).finish()).resultComplete).toBe(true);
    expect(decodeInterruptResponse(new ProtoWriter().string(1, 's').string(2, 'a').string(2, 'b').finish())).toEqual(['a', 'b']);
  });

  it('rejects a truncated message', () => {
    const whole = new ProtoWriter().string(1, 'abcdef').finish();
    expect(() => [...readFields(whole.subarray(0, 4))]).toThrow(/truncated/);
  });

  it('parses Spark Connect addresses', () => {
    expect(parseSparkAddress('sc://127.0.0.1:15003')).toEqual({ host: '127.0.0.1', port: 15003, params: {} });
    expect(parseSparkAddress('sc://spark.internal/;user_id=etl;token=x')).toEqual({ host: 'spark.internal', port: 15002, params: { user_id: 'etl', token: 'x' } });
    expect(() => parseSparkAddress('http://127.0.0.1:15002')).toThrow(/sc:\/\/host:port/);
  });
});
