/**
 * tm's Spark Connect client: SQL statements and small queries over gRPC, with interrupts. One client
 * is one Spark session (a UUID tm makes up); Spark runs everything the session sends on the cluster.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { decodeArrowStream, type ArrowRow } from './arrow-ipc.js';
import {
  decodeExecuteResponse,
  decodeInterruptResponse,
  decodeSparkVersionResponse,
  encodeExecutePlan,
  encodeInterrupt,
  encodeReleaseSession,
  encodeSparkVersionRequest,
  SERVICE,
  type ExecuteResponse,
  type InterruptTarget,
  type SessionIdentity,
  type SqlPlan,
} from './connect-messages.js';

export type { ArrowRow, ArrowValue } from './arrow-ipc.js';
export type { InterruptTarget } from './connect-messages.js';

/** Spark refused or failed a statement (its message as Spark wrote it), or the server could not be reached. */
export class SparkError extends Error {
  constructor(
    message: string,
    /** gRPC status code; UNAVAILABLE (14) when the server cannot be reached. */
    readonly grpcCode: number,
    /** Spark's error class when the message starts with one, e.g. TABLE_OR_VIEW_NOT_FOUND. */
    readonly errorClass: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SparkError';
  }

  /** The operation was interrupted (by interrupt() or an aborted signal), not failed. */
  get interrupted(): boolean {
    return this.grpcCode === grpc.status.CANCELLED || this.errorClass === 'OPERATION_CANCELED';
  }

  get unreachable(): boolean {
    return this.grpcCode === grpc.status.UNAVAILABLE;
  }
}

export interface SparkAddress {
  readonly host: string;
  readonly port: number;
  /** `;key=value` parameters of the address (user_id, ...). */
  readonly params: Readonly<Record<string, string>>;
}

/** Parses `sc://host[:port][/;key=value;...]` (Spark Connect's address form; the port defaults to 15002). */
export function parseSparkAddress(address: string): SparkAddress {
  const match = /^sc:\/\/(\[[^\]]+\]|[^:/;]+)(?::(\d+))?\/?((?:;[^;=]+=[^;]*)*)$/.exec(address.trim());
  if (!match) throw new Error(`not a Spark Connect address: "${address}" (expected sc://host:port)`);
  const params = Object.fromEntries(
    match[3]
      .split(';')
      .filter(Boolean)
      .map((pair) => pair.split('=', 2) as [string, string]),
  );
  return { host: match[1], port: match[2] ? Number(match[2]) : 15002, params };
}

export interface ExecuteOptions {
  /** The operation's id (a UUID): made up when missing; interrupt({ operationId }) names it. */
  readonly operationId?: string;
  /** Tags for interrupt({ tag }). */
  readonly tags?: readonly string[];
  /** Aborting interrupts the operation on the cluster; the call then rejects with an interrupted SparkError. */
  readonly signal?: AbortSignal;
}

export interface SparkConnectOptions {
  /** Spark SQL conf set on the session when it connects (`SET key=value`); the time zone is UTC unless given. */
  readonly conf?: Readonly<Record<string, string>>;
  readonly userId?: string;
  /** How long connect() waits for the server's first answer (a host that drops packets never refuses). Default 20 s. */
  readonly connectTimeoutMs?: number;
}

const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export class SparkConnectClient {
  private readonly grpcClient: grpc.Client;
  private readonly who: SessionIdentity;

  /** `sc://host:port`, without the address's parameters (which may carry a token): safe to print. */
  readonly address: string;

  private constructor(
    target: SparkAddress,
    userId: string,
  ) {
    this.grpcClient = new grpc.Client(`${target.host}:${target.port}`, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
    this.who = { sessionId: randomUUID(), userId };
    this.address = `sc://${target.host}:${target.port}`;
  }

  /** Opens a session on the server at `address` and applies `conf`; throws a SparkError when it is unreachable. */
  static async connect(address: string, options: SparkConnectOptions = {}): Promise<SparkConnectClient> {
    const target = parseSparkAddress(address);
    const client = new SparkConnectClient(target, options.userId ?? target.params.user_id ?? 'tm');
    try {
      const timeoutMs = options.connectTimeoutMs ?? 20_000;
      await client.unary('AnalyzePlan', encodeSparkVersionRequest(client.who), decodeSparkVersionResponse, timeoutMs).catch((error: unknown) => {
        if (error instanceof SparkError && error.grpcCode === grpc.status.DEADLINE_EXCEEDED) {
          throw new SparkError(`Spark Connect at ${client.address} did not answer within ${timeoutMs / 1000} s`, grpc.status.UNAVAILABLE, undefined, { cause: error });
        }
        throw error;
      });
      for (const [key, value] of Object.entries({ 'spark.sql.session.timeZone': 'UTC', ...options.conf })) {
        await client.executeSql(`SET ${key}=${value}`);
      }
    } catch (error) {
      // Not close(): a server that never answered would hold ReleaseSession too; an idle session expires there.
      client.grpcClient.close();
      throw error;
    }
    return client;
  }

  get sessionId(): string {
    return this.who.sessionId;
  }

  /** Runs a statement (DDL, INSERT, INSERT OVERWRITE DIRECTORY, SET...) to its end; throws a SparkError on failure. */
  async executeSql(sql: string, options: ExecuteOptions = {}): Promise<void> {
    await this.run({ command: sql }, options);
  }

  /** Runs a query and returns its rows (flat scalar columns; meant for small results: checks and counts). */
  async query(sql: string, options: ExecuteOptions = {}): Promise<ArrowRow[]> {
    const rows: ArrowRow[] = [];
    for (const response of await this.run({ query: sql }, options)) {
      if (response.arrowBatch && response.arrowBatch.data.length > 0) rows.push(...decodeArrowStream(response.arrowBatch.data));
    }
    return rows;
  }

  /** Interrupts running operations of this session; returns the ids Spark reports interrupted. */
  interrupt(target: InterruptTarget = 'all'): Promise<string[]> {
    return this.unary('Interrupt', encodeInterrupt(this.who, target), decodeInterruptResponse);
  }

  /** The server's Spark version (no job runs): what `tm debug` shows. */
  sparkVersion(): Promise<string> {
    return this.unary('AnalyzePlan', encodeSparkVersionRequest(this.who), decodeSparkVersionResponse);
  }

  /** Releases the session on the server (its temporary views and conf go; at most 5 s) and closes the channel. */
  async close(): Promise<void> {
    try {
      await this.unary('ReleaseSession', encodeReleaseSession(this.who), () => undefined, 5_000);
    } finally {
      this.grpcClient.close();
    }
  }

  private unary<T>(method: string, request: Uint8Array, decode: (response: Uint8Array) => T, timeoutMs?: number): Promise<T> {
    return new Promise((resolve, reject) => {
      this.grpcClient.makeUnaryRequest(
        `${SERVICE}/${method}`,
        (value: Uint8Array) => Buffer.from(value),
        (value: Buffer) => decode(value),
        request,
        new grpc.Metadata(),
        timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs },
        (error, response) => (error ? reject(sparkError(error, this.address)) : resolve(response as T)),
      );
    });
  }

  private run(plan: SqlPlan, options: ExecuteOptions): Promise<ExecuteResponse[]> {
    const operationId = options.operationId ?? randomUUID();
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(new SparkError('interrupted before it started', grpc.status.CANCELLED, undefined));
        return;
      }
      const responses: ExecuteResponse[] = [];
      const call = this.grpcClient.makeServerStreamRequest(
        `${SERVICE}/ExecutePlan`,
        (value: Uint8Array) => Buffer.from(value),
        (value: Buffer) => decodeExecuteResponse(value),
        encodeExecutePlan(this.who, operationId, plan, options.tags),
        new grpc.Metadata(),
      );
      const onAbort = () => {
        // Ask Spark to stop the operation's jobs; the stream then ends with Spark's cancellation error.
        this.interrupt({ operationId }).catch(() => call.cancel());
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      call.on('data', (response: ExecuteResponse) => responses.push(response));
      call.on('error', (error: grpc.ServiceError) => {
        options.signal?.removeEventListener('abort', onAbort);
        reject(sparkError(error, this.address));
      });
      call.on('end', () => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve(responses);
      });
    });
  }
}

function sparkError(error: grpc.ServiceError, address: string): SparkError {
  if (error.code === grpc.status.UNAVAILABLE) {
    return new SparkError(`Spark Connect at ${address} is unreachable: ${error.details}`, error.code, undefined, { cause: error });
  }
  const errorClass = /^\[([A-Z0-9_.]+)\]/.exec(error.details)?.[1];
  return new SparkError(error.details || error.message, error.code, errorClass, { cause: error });
}
