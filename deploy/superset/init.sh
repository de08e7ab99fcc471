#!/bin/sh
# One-shot: prepare Superset's metadata database, create the admin, import tm's bundle, then give the
# marts database its real password (the bundle never holds one). Safe to run again: the bundle's
# uuids are derived from names, so a re-import overwrites the same dashboards.
set -eu
superset db upgrade
superset fab create-admin --username "$SUPERSET_ADMIN_USER" --password "$SUPERSET_ADMIN_PASSWORD" \
  --firstname Admin --lastname tm --email admin@example.org || true  # already there on a re-run
superset init
superset import-dashboards --path /bundle/tm_dashboards.zip --username "$SUPERSET_ADMIN_USER"
superset set-database-uri --database_name tm_tripclick --uri "$MARTS_SUPERSET_URI"
echo "tm dashboards imported"
