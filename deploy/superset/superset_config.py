# Superset configuration of the compose stack: everything secret comes from the environment.
import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_METADATA_URI"]
# The tm page and Superset show the same UTC times; tm's marts hold UTC timestamps without zone.
FEATURE_FLAGS = {"DASHBOARD_RBAC": False}
WTF_CSRF_ENABLED = True
