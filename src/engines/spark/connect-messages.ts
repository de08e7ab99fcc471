/**
 * The few Spark Connect messages tm sends and reads, encoded by hand on the protobuf wire format.
 * Field numbers are those of Spark Connect's published protocol (package spark.connect, service
 * SparkConnectService); every field tm does not use is left out, and unknown fields are skipped.
 */
import { fieldText, ProtoWriter, readFields } from './protowire.js';

export const SERVICE = '/spark.connect.SparkConnectService';
export const CLIENT_TYPE = 'tm';

export interface SessionIdentity {
  readonly sessionId: string;
  readonly userId: string;
}

/** UserContext { user_id = 1; user_name = 2 } */
function userContext(w: ProtoWriter, who: SessionIdentity): void {
  w.message(2, (u) => u.string(1, who.userId).string(2, who.userId));
}

/** What an ExecutePlan runs: a SQL command (eagerly run, as DDL/DML) or a SQL query whose rows come back. */
export type SqlPlan = { readonly command: string } | { readonly query: string };

/**
 * ExecutePlanRequest { session_id = 1; user_context = 2; plan = 3; client_type = 4; operation_id = 6; tags = 7 }
 * Plan { root: Relation = 1 | command: Command = 2 }; Relation { sql: SQL = 10 }; SQL { query = 1 };
 * Command { sql_command: SqlCommand = 5 }; SqlCommand { input: Relation = 6 }.
 */
export function encodeExecutePlan(who: SessionIdentity, operationId: string, plan: SqlPlan, tags: readonly string[] = []): Uint8Array {
  const sqlRelation = (sql: string) => (relation: ProtoWriter) => relation.message(10, (q) => q.string(1, sql));
  const w = new ProtoWriter().string(1, who.sessionId);
  userContext(w, who);
  w.message(3, (p) => {
    if ('query' in plan) p.message(1, sqlRelation(plan.query));
    else p.message(2, (c) => c.message(5, (s) => s.message(6, sqlRelation(plan.command))));
  });
  w.string(4, CLIENT_TYPE).string(6, operationId);
  for (const tag of tags) w.string(7, tag);
  return w.finish();
}

export type InterruptTarget = { readonly operationId: string } | { readonly tag: string } | 'all';

/**
 * InterruptRequest { session_id = 1; user_context = 2; client_type = 3; interrupt_type = 4
 * (ALL = 1, TAG = 2, OPERATION_ID = 3); operation_tag = 5; operation_id = 6 }
 */
export function encodeInterrupt(who: SessionIdentity, target: InterruptTarget): Uint8Array {
  const w = new ProtoWriter().string(1, who.sessionId);
  userContext(w, who);
  w.string(3, CLIENT_TYPE);
  if (target === 'all') w.uint(4, 1);
  else if ('tag' in target) w.uint(4, 2).string(5, target.tag);
  else w.uint(4, 3).string(6, target.operationId);
  return w.finish();
}

/** The parts of one ExecutePlanResponse tm uses. */
export interface ExecuteResponse {
  readonly operationId: string;
  readonly serverSideSessionId: string;
  /** ArrowBatch { row_count = 1; data = 2 } at response field 2. */
  readonly arrowBatch?: { readonly rowCount: bigint; readonly data: Uint8Array };
  /** ResultComplete at field 14: the server will send nothing more for this operation. */
  readonly resultComplete: boolean;
}

export function decodeExecuteResponse(buf: Uint8Array): ExecuteResponse {
  let operationId = '';
  let serverSideSessionId = '';
  let arrowBatch: ExecuteResponse['arrowBatch'];
  let resultComplete = false;
  for (const f of readFields(buf)) {
    if (f.field === 12) operationId = fieldText(f);
    else if (f.field === 15) serverSideSessionId = fieldText(f);
    else if (f.field === 14) resultComplete = true;
    else if (f.field === 2 && f.wire === 'bytes') {
      let rowCount = 0n;
      let data: Uint8Array = new Uint8Array();
      for (const a of readFields(f.value)) {
        if (a.field === 1 && a.wire === 'varint') rowCount = a.value;
        else if (a.field === 2 && a.wire === 'bytes') data = a.value;
      }
      arrowBatch = { rowCount, data };
    }
  }
  return { operationId, serverSideSessionId, arrowBatch, resultComplete };
}

/** AnalyzePlanRequest { session_id = 1; user_context = 2; client_type = 3; spark_version: SparkVersion {} = 10 } */
export function encodeSparkVersionRequest(who: SessionIdentity): Uint8Array {
  const w = new ProtoWriter().string(1, who.sessionId);
  userContext(w, who);
  return w.string(3, CLIENT_TYPE).message(10, () => undefined).finish();
}

/** AnalyzePlanResponse { spark_version: SparkVersion { version = 1 } = 8 } */
export function decodeSparkVersionResponse(buf: Uint8Array): string {
  for (const f of readFields(buf)) {
    if (f.field === 8 && f.wire === 'bytes') for (const v of readFields(f.value)) if (v.field === 1) return fieldText(v);
  }
  return '';
}

/** ReleaseSessionRequest { session_id = 1; user_context = 2; client_type = 3 } */
export function encodeReleaseSession(who: SessionIdentity): Uint8Array {
  const w = new ProtoWriter().string(1, who.sessionId);
  userContext(w, who);
  return w.string(3, CLIENT_TYPE).finish();
}

/** InterruptResponse { interrupted_ids = 2 } */
export function decodeInterruptResponse(buf: Uint8Array): string[] {
  return [...readFields(buf)].filter((f) => f.field === 2).map(fieldText);
}
