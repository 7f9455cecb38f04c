"""RULES §11's memory bounds: many listings of every user at once, on a database
seeded in SQL (100,000 users through createUser would be 100,000 Argon2 hashes).

The rows are those the API would write: each user has its `read-user-<u>` and
`edit-user-<u>` groups, the four default groups and K `read-model-<id>` groups; each
model its `read-model-<id>` and `edit-model-<id>` groups. The server starts once on
the empty database (migrations, admin), stops, is seeded, and starts again, so that
its peak (VmHWM) is that of the listings alone."""

from __future__ import annotations

import concurrent.futures as cf
import json
import sqlite3
import subprocess
import time

from . import client, ours
from .load import ProcSampler

Q_FULL = ("{ users { username email fullName role disabled groups { name permissions { "
          "resourceType resourceId method } } models { id } } }")
Q_MODELS = "{ users { username models { id } } }"


def _series(kind: str, name: str, n: int) -> str:
    """A CTE `name(i)` of 0..n-1."""
    if kind == "postgres":
        return f"{name}(i) AS (SELECT generate_series(0, {n - 1}))"
    return f"{name}(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM {name} WHERE i < {n - 1})"


def _padded(kind: str, number: str) -> str:
    """`number` (an SQL expression) as six digits."""
    if kind == "postgres":
        return f"lpad(({number})::text, 6, '0')"
    return f"printf('%06d', {number})"


def seed_sql(kind: str, users: int, models: int, k: int) -> list[str]:
    """Statements seeding `users` REGULAR users (password: the admin's) and `models`
    models; user i reads models (i + j * models / k) % models for j < k."""
    user = "'user-' || " + _padded(kind, "u.i")
    model = "'model-' || " + _padded(kind, "m.i")
    with_ = "WITH " if kind == "postgres" else "WITH RECURSIVE "
    over_models = with_ + _series(kind, "m", models) + " "
    over_users = with_ + _series(kind, "u", users) + " "
    over_user_models = with_ + _series(kind, "u", users) + ", " + _series(kind, "j", k) + " "
    grant = "INSERT INTO group_permissions (group_name, resource_type, resource_id, method) "
    owned = "INSERT INTO groups (name, owner_kind, owner_id) "
    member = "INSERT INTO user_groups (username, group_name) "
    readable = "'read-model-model-' || " + _padded(kind, f"(u.i + j.i * {max(models // k, 1)}) % {models}")
    admin_hash = "(SELECT password_hash FROM users WHERE username = 'admin')"
    return [
        over_models + f"INSERT INTO models (id) SELECT {model} FROM m",
        *(over_models + owned + f"SELECT '{g}-model-' || {model}, 'MODEL', {model} FROM m" for g in ("read", "edit")),
        over_models + grant + f"SELECT 'read-model-' || {model}, 'MODEL', {model}, 'GET' FROM m",
        *(over_models + grant + f"SELECT 'edit-model-' || {model}, 'MODEL', {model}, '{method}' FROM m"
          for method in ("PUT", "DELETE", "POST")),
        over_users + "INSERT INTO users (username, password_hash, email, full_name, disabled, role, token_version) "
        f"SELECT {user}, {admin_hash}, {user} || '@example.org', 'User ' || {user}, 0, 'REGULAR', 'seeded' FROM u",
        *(over_users + owned + f"SELECT '{g}-user-' || {user}, 'USER', {user} FROM u" for g in ("read", "edit")),
        over_users + grant + f"SELECT 'read-user-' || {user}, 'USER', {user}, 'GET' FROM u",
        *(over_users + grant + f"SELECT 'edit-user-' || {user}, 'USER', {user}, '{method}' FROM u"
          for method in ("PUT", "DELETE", "POST")),
        *(over_users + member + f"SELECT {user}, '{group}' FROM u"
          for group in ("create-model", "read-custom_list", "create-custom_list", "edit-custom_list")),
        *(over_users + member + f"SELECT {user}, '{g}-user-' || {user} FROM u" for g in ("read", "edit")),
        over_user_models + member + f"SELECT {user}, {readable} FROM u CROSS JOIN j",
    ]


def _run_sql(db: ours.Database, stmts: list[str]) -> None:
    if db.kind == "sqlite":
        with sqlite3.connect(db.path) as conn:
            for s in stmts:
                conn.execute(s)
    else:
        script = ";\n".join(stmts) + ";\n"
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", db.url], input=script.encode(),
                       check=True, capture_output=True)


def _listing(port: int, token: str, query: str) -> tuple[int, int, bool]:
    """Status, body bytes, and whether the body has data and no errors."""
    status, body = client.request(port, "POST", "/graphql", json.dumps({"query": query}).encode(),
                                  {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    ok = status == 200 and body.startswith(b'{"data":{"users":[') and b'"errors"' not in body[-512:]
    return status, len(body), ok


def run_row(args, workdir: str, log, users: int, query: str, concurrency: int, rounds: int) -> list:
    """Seeds `users` users, then `concurrency` clients each send `rounds` listings."""
    models = max(args.models, 10)
    k = min(args.per_user, models)
    db = ours.Database(args.database, f"memory-{users}", workdir)
    server = ours.OurServer(args.binary, db, workdir)
    # 32 listings of 100,000 users queue for minutes on 2 cores: the bound measured is
    # memory, so none may end at the default 30 s request timeout.
    server.extra_env = {"MLTE_REQUEST_TIMEOUT_SECS": "900"}
    server.start()
    server.stop()
    t0 = time.perf_counter()
    _run_sql(db, seed_sql(db.kind, users, models, k))
    log(f"  seeded {users} users, {models} models in SQL in {time.perf_counter() - t0:.1f} s")
    server.start()
    try:
        token = server.admin_token()
        # One listing first: the answer's size, and the process's size before the burst.
        status, size, ok = _listing(server.port, token, query)
        if not ok:
            raise RuntimeError(f"the listing failed: status {status}")
        outcomes = []
        with ProcSampler(server.pid) as sampler:
            t0 = time.perf_counter()
            with cf.ThreadPoolExecutor(concurrency) as pool:
                futures = [pool.submit(_listing, server.port, token, query)
                           for _ in range(concurrency * rounds)]
                outcomes = [f.result() for f in futures]
            elapsed = time.perf_counter() - t0
        failed = sum(1 for _, _, ok in outcomes if not ok)
        statuses = sorted({status for status, _, ok in outcomes if not ok})
        failed_note = f"{failed} ({', '.join(map(str, statuses))})" if failed else "0"
        return [users, query_name(query), concurrency, len(outcomes), failed_note, f"{size / 2**20:.1f}",
                f"{elapsed:.1f}", f"{sampler.rss_max_kib / 1024:.0f}", f"{sampler.hwm_kib / 1024:.0f}"]
    finally:
        server.stop()
        db.drop()


def query_name(query: str) -> str:
    return "full listing" if query == Q_FULL else "users { username models { id } }"
