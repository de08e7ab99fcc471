#!/bin/sh
# One-shot preparation of Superset for tm's dashboards, run by the compose stack (superset-init) and
# by the test suite alike: metadata database, admin user, roles and permissions. Safe to run again.
# The bundle is imported afterwards, into the running server, by import_bundle.py (the assets API,
# the one import route that overwrites charts, datasets and databases as well as dashboards).
set -eu
: "${SUPERSET_ADMIN_USER:=admin}"
: "${SUPERSET_ADMIN_PASSWORD:?set SUPERSET_ADMIN_PASSWORD}"
superset db upgrade
# An existing admin is left as it is (Flask-AppBuilder says so and exits 0).
superset fab create-admin --username "$SUPERSET_ADMIN_USER" --password "$SUPERSET_ADMIN_PASSWORD" \
  --firstname Admin --lastname tm --email "$SUPERSET_ADMIN_USER@example.org"
superset init
echo "superset ready for tm's dashboards"
