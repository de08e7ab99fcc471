"""tm on Airflow: the daily cold run at 02:30 UTC, then `tm test` on what it built.

Copy into the dags/ folder. The workers need tm (npm install ./tm-transform-0.1.0.tgz in TM_HOME) and the project
in TM_PROJECT_DIR; TM_PG_URL and the rest come from the worker's environment, never from this file.
"""
import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

TM_HOME = os.environ.get("TM_HOME", "/opt/tm")
TM_PROJECT_DIR = os.environ.get("TM_PROJECT_DIR", f"{TM_HOME}/project")
TM = f"{TM_HOME}/node_modules/.bin/tm"
SELECT = os.environ.get("TM_COLD_SELECT", "cold")

with DAG(
    dag_id="tm_cold",
    description="tm cold run, then its tests",
    schedule="30 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["tm"],
) as dag:
    # Exit codes: 0 ok, 1 a model or test failed, 2 a usage, project or connection error: any non-zero fails the task.
    cold_run = BashOperator(
        task_id="tm_run_cold",
        bash_command=f"cd {TM_PROJECT_DIR} && {TM} run --select {SELECT} --target prod",
    )
    cold_test = BashOperator(
        task_id="tm_test_cold",
        bash_command=f"cd {TM_PROJECT_DIR} && {TM} test --select {SELECT} --target prod --junit target/junit-cold.xml",
    )
    cold_run >> cold_test
