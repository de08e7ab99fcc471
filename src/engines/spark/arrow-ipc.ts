/**
 * Reads the small Arrow IPC streams Spark Connect sends back for a query (a schema message, then
 * record batches) into plain rows. Only flat columns of scalar types: enough for `tm debug`, counts
 * and checks; model results never come this way (Spark writes them as Parquet). Written from the
 * Arrow columnar format and FlatBuffers specifications.
 */

/** A decoded cell. 64-bit integers stay bigint; decimals are strings (exact); dates 'YYYY-MM-DD'. */
export type ArrowValue = null | boolean | number | bigint | string | Date;
export type ArrowRow = Record<string, ArrowValue>;

/** A FlatBuffers table: field lookups through its vtable. */
class Table {
  constructor(
    private readonly view: DataView,
    readonly pos: number,
  ) {}

  static root(view: DataView, at = 0): Table {
    return new Table(view, at + view.getUint32(at, true));
  }

  private offset(id: number): number {
    const vtable = this.pos - this.view.getInt32(this.pos, true);
    const vtableSize = this.view.getUint16(vtable, true);
    const slot = 4 + id * 2;
    return slot < vtableSize ? this.view.getUint16(vtable + slot, true) : 0;
  }

  int(id: number, size: 1 | 2 | 4 | 8, fallback = 0): number {
    const off = this.offset(id);
    if (!off) return fallback;
    const at = this.pos + off;
    if (size === 1) return this.view.getUint8(at);
    if (size === 2) return this.view.getInt16(at, true);
    if (size === 4) return this.view.getInt32(at, true);
    return Number(this.view.getBigInt64(at, true));
  }

  private target(id: number): number | undefined {
    const off = this.offset(id);
    return off ? this.pos + off + this.view.getUint32(this.pos + off, true) : undefined;
  }

  table(id: number): Table | undefined {
    const at = this.target(id);
    return at === undefined ? undefined : new Table(this.view, at);
  }

  string(id: number): string | undefined {
    const at = this.target(id);
    if (at === undefined) return undefined;
    const length = this.view.getUint32(at, true);
    return new TextDecoder().decode(new Uint8Array(this.view.buffer, this.view.byteOffset + at + 4, length));
  }

  /** A vector's element count and the position of its first element. */
  vector(id: number): { length: number; start: number } {
    const at = this.target(id);
    return at === undefined ? { length: 0, start: 0 } : { length: this.view.getUint32(at, true), start: at + 4 };
  }

  tables(id: number): Table[] {
    const { length, start } = this.vector(id);
    return Array.from({ length }, (_, i) => Table.root(this.view, start + i * 4));
  }
}

// Message header and Type union tags, from the Arrow format's Message.fbs and Schema.fbs.
const HEADER_SCHEMA = 1;
const HEADER_RECORD_BATCH = 3;
const TYPE = { Null: 1, Int: 2, FloatingPoint: 3, Utf8: 5, Bool: 6, Decimal: 7, Date: 8, Timestamp: 10 } as const;

interface Column {
  readonly name: string;
  readonly read: (body: Uint8Array, buffers: () => Uint8Array, length: number) => (i: number) => ArrowValue;
}

function isValid(validity: Uint8Array, i: number): boolean {
  return validity.length === 0 || (validity[i >> 3] & (1 << (i & 7))) !== 0;
}

function fixedWidth(bytes: number, get: (view: DataView, at: number) => ArrowValue): Column['read'] {
  return (_body, next) => {
    const validity = next();
    const data = next();
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    return (i) => (isValid(validity, i) ? get(view, i * bytes) : null);
  };
}

function decimalText(view: DataView, at: number, scale: number): string {
  const value = BigInt.asIntN(128, (view.getBigUint64(at + 8, true) << 64n) | view.getBigUint64(at, true));
  const digits = (value < 0n ? -value : value).toString().padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return value < 0n ? `-${text}` : text;
}

function columnReader(field: Table): Column['read'] {
  const type = field.table(3);
  const typeTag = field.int(2, 1);
  const name = field.string(0) ?? '';
  switch (typeTag) {
    case TYPE.Null:
      return () => () => null;
    case TYPE.Bool:
      return (_body, next) => {
        const validity = next();
        const data = next();
        return (i) => (isValid(validity, i) ? (data[i >> 3] & (1 << (i & 7))) !== 0 : null);
      };
    case TYPE.Int: {
      const bits = type?.int(0, 4) ?? 0;
      const signed = (type?.int(1, 1) ?? 0) !== 0;
      if (bits === 8) return fixedWidth(1, (v, at) => (signed ? v.getInt8(at) : v.getUint8(at)));
      if (bits === 16) return fixedWidth(2, (v, at) => (signed ? v.getInt16(at, true) : v.getUint16(at, true)));
      if (bits === 32) return fixedWidth(4, (v, at) => (signed ? v.getInt32(at, true) : v.getUint32(at, true)));
      return fixedWidth(8, (v, at) => (signed ? v.getBigInt64(at, true) : v.getBigUint64(at, true)));
    }
    case TYPE.FloatingPoint:
      return (type?.int(0, 2) ?? 0) === 1
        ? fixedWidth(4, (v, at) => v.getFloat32(at, true))
        : fixedWidth(8, (v, at) => v.getFloat64(at, true));
    case TYPE.Decimal: {
      const scale = type?.int(1, 4) ?? 0;
      return fixedWidth(16, (v, at) => decimalText(v, at, scale));
    }
    case TYPE.Date:
      // Date's unit defaults to MILLISECOND (1) in the schema; Spark writes DAY (0).
      return (type?.int(0, 2, 1) ?? 1) === 0
        ? fixedWidth(4, (v, at) => new Date(v.getInt32(at, true) * 86_400_000).toISOString().slice(0, 10))
        : fixedWidth(8, (v, at) => new Date(Number(v.getBigInt64(at, true))).toISOString().slice(0, 10));
    case TYPE.Timestamp: {
      const perMs = [1e-3, 1, 1e3, 1e6][type?.int(0, 2) ?? 0] ?? 1;
      return fixedWidth(8, (v, at) => new Date(Number(v.getBigInt64(at, true)) / perMs));
    }
    case TYPE.Utf8:
      return (_body, next) => {
        const validity = next();
        const offsets = next();
        const data = next();
        const view = new DataView(offsets.buffer, offsets.byteOffset, offsets.byteLength);
        const text = new TextDecoder();
        return (i) => (isValid(validity, i) ? text.decode(data.subarray(view.getInt32(i * 4, true), view.getInt32(i * 4 + 4, true))) : null);
      };
    default:
      throw new Error(`Arrow result: column "${name}" has a type tm does not read back (Arrow type tag ${typeTag}); cast it to a scalar`);
  }
}

/** Decodes one Arrow IPC stream (as in one Spark Connect ArrowBatch) into rows. */
export function decodeArrowStream(stream: Uint8Array): ArrowRow[] {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const rows: ArrowRow[] = [];
  let columns: Column[] = [];
  let at = 0;
  while (at + 4 <= stream.length) {
    let size = view.getInt32(at, true);
    at += 4;
    if (size === -1) {
      size = view.getInt32(at, true); // the continuation marker precedes the length
      at += 4;
    }
    if (size === 0) break; // end of stream
    const message = Table.root(view, at);
    at += size;
    const bodyLength = message.int(3, 8);
    const body = stream.subarray(at, at + bodyLength);
    at += bodyLength;
    const header = message.table(2);
    if (!header) continue;
    const kind = message.int(1, 1);
    if (kind === HEADER_SCHEMA) {
      columns = header.tables(1).map((field) => {
        if (field.vector(5).length > 0) throw new Error(`Arrow result: column "${field.string(0)}" is nested; tm reads back flat columns only`);
        return { name: field.string(0) ?? '', read: columnReader(field) };
      });
    } else if (kind === HEADER_RECORD_BATCH) {
      if (header.table(3)) throw new Error('Arrow result: compressed record batches are not supported');
      const length = header.int(0, 8);
      const buffers = header.vector(2);
      let nextBuffer = 0;
      const next = (): Uint8Array => {
        const entry = buffers.start + 16 * nextBuffer++;
        const offset = Number(view.getBigInt64(entry, true));
        return body.subarray(offset, offset + Number(view.getBigInt64(entry + 8, true)));
      };
      const readers = columns.map((column) => ({ name: column.name, get: column.read(body, next, length) }));
      for (let i = 0; i < length; i++) {
        const row: ArrowRow = {};
        for (const reader of readers) row[reader.name] = reader.get(i);
        rows.push(row);
      }
    }
  }
  return rows;
}
