/**
 * The protocol buffers wire format, as much as tm's Spark Connect messages need: a writer for
 * varint and length-delimited fields, and a reader that walks a message's fields (skipping the
 * ones tm does not use, as protobuf readers must). Written from the format's documentation.
 */

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Builds one message; nested messages are written with `message(field, writer)`. */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v > 0x7fn) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** An int32/int64/enum/bool field (proto3: zero is the default and is not written). */
  uint(field: number, value: number | bigint | boolean): this {
    const v = typeof value === 'boolean' ? Number(value) : value;
    if (v === 0 || v === 0n) return this;
    this.tag(field, WIRE_VARINT);
    this.varint(v);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  /** A string field; `undefined` is left out (an unset optional). */
  string(field: number, value: string | undefined): this {
    return value === undefined ? this : this.bytes(field, encoder.encode(value));
  }

  message(field: number, build: (writer: ProtoWriter) => void): this {
    const nested = new ProtoWriter();
    build(nested);
    return this.bytes(field, nested.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

/** One field as read: varints as bigint, length-delimited ones as bytes (a string or a nested message). */
export type ProtoField =
  | { readonly field: number; readonly wire: 'varint'; readonly value: bigint }
  | { readonly field: number; readonly wire: 'bytes'; readonly value: Uint8Array }
  | { readonly field: number; readonly wire: 'fixed'; readonly value: Uint8Array };

export function* readFields(buf: Uint8Array): Generator<ProtoField> {
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= buf.length) throw new Error('protobuf: truncated varint');
      const byte = buf[at++];
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === WIRE_VARINT) yield { field, wire: 'varint', value: varint() };
    else if (wire === WIRE_LEN) {
      const length = Number(varint());
      if (at + length > buf.length) throw new Error('protobuf: truncated field');
      yield { field, wire: 'bytes', value: buf.subarray(at, at + length) };
      at += length;
    } else if (wire === WIRE_I64 || wire === WIRE_I32) {
      const length = wire === WIRE_I64 ? 8 : 4;
      yield { field, wire: 'fixed', value: buf.subarray(at, at + length) };
      at += length;
    } else throw new Error(`protobuf: unsupported wire type ${wire} (field ${field})`);
  }
}

export function fieldText(f: ProtoField): string {
  return f.wire === 'bytes' ? decoder.decode(f.value) : '';
}
