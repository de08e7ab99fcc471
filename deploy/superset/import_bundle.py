"""Imports tm's dashboards bundle into a running Superset through its assets API.

    python import_bundle.py --url http://127.0.0.1:8088 --bundle tm_dashboards.zip

`POST /api/v1/assets/import/` is the import route that overwrites everything the bundle holds:
databases, datasets, charts and dashboards (`superset import-dashboards` and the dashboard import
API overwrite dashboards only, so a changed chart would keep its old version). The marts database's
password travels in the request's `passwords` field, read from MARTS_DB_PASSWORD, never from the
bundle (tm writes it masked). Admin credentials: SUPERSET_ADMIN_USER, SUPERSET_ADMIN_PASSWORD.
Only the standard library: it runs with any Python, in Superset's image or beside it.
"""
import argparse
import http.cookiejar
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="Superset's base URL")
    parser.add_argument("--bundle", required=True, help="the ZIP written by `tm dashboards export`")
    parser.add_argument("--wait", type=float, default=300, help="seconds to wait for Superset to answer /health")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    user = os.environ.get("SUPERSET_ADMIN_USER", "admin")
    password = os.environ.get("SUPERSET_ADMIN_PASSWORD")
    if not password:
        print("import_bundle: set SUPERSET_ADMIN_PASSWORD", file=sys.stderr)
        return 2
    with open(args.bundle, "rb") as f:
        bundle = f.read()
    passwords = database_passwords(args.bundle, os.environ.get("MARTS_DB_PASSWORD"))

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    wait_for_health(opener, base, args.wait)
    login = call(opener, "POST", f"{base}/api/v1/security/login", json_body={"username": user, "password": password, "provider": "db", "refresh": False})
    auth = {"Authorization": f"Bearer {login['access_token']}"}
    # The CSRF token belongs to the session cookie the opener keeps.
    csrf = call(opener, "GET", f"{base}/api/v1/security/csrf_token/", headers=auth)["result"]
    fields = {}  # the assets import always overwrites: no `overwrite` flag to send
    if passwords:
        fields["passwords"] = json.dumps(passwords)
    body, content_type = multipart(fields, "bundle", os.path.basename(args.bundle), bundle)
    headers = {**auth, "X-CSRFToken": csrf, "Referer": base, "Content-Type": content_type}
    result = call(opener, "POST", f"{base}/api/v1/assets/import/", headers=headers, body=body)
    print(f"imported {os.path.basename(args.bundle)} into {base}: {result.get('message', result)}")
    return 0


def database_passwords(path: str, password: str | None) -> dict[str, str]:
    """`{"databases/<name>.yaml": password}` for every database file of the bundle (paths below its root folder)."""
    if not password:
        return {}
    with zipfile.ZipFile(path) as z:
        names = ["/".join(n.split("/")[1:]) for n in z.namelist()]
    return {n: password for n in names if n.startswith("databases/") and n.endswith((".yaml", ".yml"))}


def wait_for_health(opener: urllib.request.OpenerDirector, base: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with opener.open(f"{base}/health", timeout=10) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"import_bundle: {base}/health did not answer within {seconds:.0f}s")
        time.sleep(1)


def call(opener, method: str, url: str, headers=None, json_body=None, body: bytes | None = None) -> dict:
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with opener.open(request, timeout=300) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as err:
        detail = err.read().decode("utf-8", "replace")[:2000]
        raise SystemExit(f"import_bundle: {method} {url} answered {err.code}: {detail}")


def multipart(fields: dict[str, str], file_field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\nContent-Type: application/zip\r\n\r\n'.encode())
    parts.append(data)
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


if __name__ == "__main__":
    sys.exit(main())
