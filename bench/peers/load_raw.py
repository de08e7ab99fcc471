"""The loader step of the dbt peer: the curated Parquet stream into PostgreSQL, before dbt runs.

dbt transforms what is already in the warehouse; a dbt user lands the raw files with a loader first.
This one is the fastest available here (it favours the peer): DuckDB reads the new Parquet files and
streams them as CSV through a FIFO into PostgreSQL's COPY (psycopg2, one transaction). Like the file
state of an EL tool, it remembers the files it loaded (<schema>.loaded_files) and loads only new ones;
every row carries its file path (the dedup tie-break) and the load's timestamp (_loaded_at).

    python load_raw.py --root DIR --schema SCHEMA     (PostgreSQL URL in $DBT_PG_URL)

Prints one JSON line: files, rows, seconds (copy and indexes apart).
"""
import argparse
import json
import os
import tempfile
import threading
import time

import duckdb
import psycopg2

RAW_DDL = """
CREATE TABLE IF NOT EXISTS {s}.raw_events (
  dedup_key text, event_ts timestamp, event_date date, session_id text, document_id bigint,
  url text, title text, doi text, clinical_areas text, keywords text, _file text, _loaded_at timestamp
);
CREATE TABLE IF NOT EXISTS {s}.loaded_files (path text PRIMARY KEY, loaded_at timestamp);
"""

# What the incremental models look rows up by (keys of a new batch, time windows, batches).
RAW_INDEXES = [("raw_events_dedup_key", "dedup_key"), ("raw_events_event_ts", "event_ts"), ("raw_events_loaded_at", "_loaded_at")]


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def list_files(root):
    out = []
    for folder in sorted(os.listdir(root)):
        if folder.startswith((".", "_")) or not os.path.isdir(os.path.join(root, folder)):
            continue
        for name in sorted(os.listdir(os.path.join(root, folder))):
            if name.endswith(".parquet") and not name.startswith((".", "_")):
                out.append(os.path.join(root, folder, name))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", required=True)
    p.add_argument("--schema", required=True)
    a = p.parse_args()
    started = time.perf_counter()
    conn = psycopg2.connect(os.environ["DBT_PG_URL"], options="-c TimeZone=UTC")
    s = '"' + a.schema.replace('"', '""') + '"'
    with conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
        cur.execute(RAW_DDL.format(s=s))
        cur.execute(f"SELECT path FROM {s}.loaded_files")
        loaded = {r[0] for r in cur.fetchall()}
        cur.execute("SELECT (now() AT TIME ZONE 'UTC')::timestamp::text")
        loaded_at = cur.fetchone()[0]
    files = [f for f in list_files(os.path.abspath(a.root)) if f not in loaded]
    if not files:
        conn.commit()
        print(json.dumps({"files": 0, "rows": 0, "seconds": time.perf_counter() - started, "copy_seconds": 0, "index_seconds": 0}))
        return
    duck = duckdb.connect(config={"memory_limit": "1GB", "preserve_insertion_order": "false"})
    duck.execute("SET TimeZone = 'UTC'")
    file_list = "[" + ", ".join(sql_str(f) for f in files) + "]"
    select = f"""SELECT CAST(dedup_key AS VARCHAR), CAST(event_ts AS TIMESTAMP), CAST(event_date AS DATE), CAST(session_id AS VARCHAR),
        CAST(document_id AS BIGINT), CAST(url AS VARCHAR), CAST(title AS VARCHAR), CAST(doi AS VARCHAR),
        CAST(clinical_areas AS VARCHAR), CAST(keywords AS VARCHAR), filename, TIMESTAMP {sql_str(loaded_at)}
      FROM read_parquet({file_list}, hive_partitioning = true, union_by_name = true, filename = true)"""
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "raw.csv")
        os.mkfifo(fifo)
        failure = []

        def export():
            try:
                duck.execute(f"COPY ({select}) TO {sql_str(fifo)} (FORMAT csv, HEADER false)")
            except Exception as e:  # unblock the reader, report after
                failure.append(e)
                with open(fifo, "w"):
                    pass

        t = threading.Thread(target=export)
        t.start()
        with conn.cursor() as cur, open(fifo, "r", encoding="utf-8", newline="") as f:
            cur.copy_expert(f"COPY {s}.raw_events FROM STDIN WITH (FORMAT csv)", f, size=1 << 20)
            rows = cur.rowcount
        t.join()
        if failure:
            conn.rollback()
            raise failure[0]
    with conn.cursor() as cur:
        # The file state commits with the rows: a failed load loads nothing and records nothing.
        cur.execute(f"INSERT INTO {s}.loaded_files (path, loaded_at) SELECT f, %s FROM unnest(%s::text[]) AS f", (loaded_at, files))
    conn.commit()
    copied = time.perf_counter()
    if not loaded:
        # First load: the indexes are built once over the bulk (then kept up by each COPY), and statistics taken.
        with conn.cursor() as cur:
            for name, column in RAW_INDEXES:
                cur.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {s}.raw_events ({column})")
            cur.execute(f"ANALYZE {s}.raw_events")
        conn.commit()
    done = time.perf_counter()
    print(json.dumps({"files": len(files), "rows": rows, "seconds": done - started, "copy_seconds": copied - started, "index_seconds": done - copied}))


if __name__ == "__main__":
    main()
