# Superset configuration for tm's dashboards: the compose stack and the test suite load this same file
# (SUPERSET_CONFIG_PATH). Everything secret or site-specific comes from the environment.
import os

# The suite runs Superset on loopback with a throwaway key; a deployment sets its own (compose does).
SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY", "tm-test-only-secret-key-not-for-deployment")

# Superset's own metadata: PostgreSQL in compose, SQLite under SUPERSET_HOME in the suite.
_home = os.environ.get("SUPERSET_HOME", os.path.expanduser("~/.superset"))
SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_METADATA_URI", f"sqlite:///{os.path.join(_home, 'superset.db')}")

# CSRF stays on: the import script fetches a token with its session, as the web UI does.
WTF_CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None

FEATURE_FLAGS = {
    # tm's `latest` and `recent` chart filters compare with the mart's own latest value (a sub-query),
    # as tm's page does; Superset refuses sub-queries in custom SQL unless this is on.
    "ALLOW_ADHOC_SUBQUERY": True,
    "DASHBOARD_RBAC": False,
}

# No example data, no phoning home, no thumbnails/reports workers: a plain web server.
SUPERSET_WEBSERVER_TIMEOUT = 120
