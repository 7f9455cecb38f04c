"""The admin screens' queries (RULES §10, issue 14) on databases seeded in SQL:
`searchUsers` with a selective substring, its first and last pages, `Model.access`
for a model every user reaches through the global `read-model` group, and `allowed`
with 100 checks against `me { username }`."""

from __future__ import annotations

import time

from . import memory, ours
from .load import median_latency, run_wrk, wait_idle


def selective(users: int) -> str:
    """A substring that the last 100 users match (by username, email and fullName):
    0.1 % of 100,000, and a search must go through every user before it to find them."""
    return f"r-{(users - 100) // 100:04d}"


Q_SEARCH = "query($q: String, $after: String) { searchUsers(query: $q, first: 50, after: $after) { nodes { username } } }"
Q_SEARCH_TOTAL = ("query($q: String, $after: String) { searchUsers(query: $q, first: 50, after: $after) "
                  "{ totalCount nodes { username } } }")
Q_ACCESS = "{ model(id: \"model-000000\") { access(first: 50) { nodes { username methods } } } }"
Q_ME = "{ me { username } }"
Q_ALLOWED = "{ allowed(checks: [%s]) }" % ", ".join(
    f'{{resourceType: MODEL, resourceId: "model-{i:06d}", method: GET}}' for i in range(100))
# The same checks as a variable, as typed clients send them.
Q_ALLOWED_VARIABLE = "query($c: [PermissionInput!]!) { allowed(checks: $c) }"
ALLOWED_CHECKS = {"c": [{"resourceType": "MODEL", "resourceId": f"model-{i:06d}", "method": "GET"} for i in range(100)]}


def _last_cursor(server, token) -> str:
    """An `after` for unfiltered `searchUsers` whose next page is among the last: the
    end cursor of the second-to-last page of 1,000 (cursors hold no page size)."""
    q = "query($after: String) { searchUsers(first: 1000, after: $after) { pageInfo { hasNextPage endCursor } } }"
    cursors, after = [], None
    while True:
        info = server.gql(q, token, {"after": after})["searchUsers"]["pageInfo"]
        cursors.append(info["endCursor"])
        if not info["hasNextPage"]:
            return cursors[-2] if len(cursors) > 1 else None
        after = info["endCursor"]


def seed(args, workdir: str, log, users: int) -> tuple[ours.OurServer, ours.Database]:
    db = ours.Database(args.database, f"admin-{users}", workdir)
    server = ours.OurServer(args.binary, db, workdir)
    server.start()
    server.stop()
    t0 = time.perf_counter()
    stmts = memory.seed_sql(db.kind, users, 1000, 10)
    # Everyone reaches every model through MLTE's global read-model group.
    with_ = "WITH " if db.kind == "postgres" else "WITH RECURSIVE "
    stmts.append(with_ + memory._series(db.kind, "u", users) + " INSERT INTO user_groups (username, group_name) "
                 "SELECT 'user-' || " + memory._padded(db.kind, "u.i") + ", 'read-model' FROM u")
    memory._run_sql(db, stmts)
    if db.kind == "postgres":
        memory._run_sql(db, ["ANALYZE"])
    log(f"  seeded {users} users in SQL in {time.perf_counter() - t0:.1f} s")
    server.start()
    return server, db


def run(args, workdir: str, log, out, table, ms, ratio) -> None:
    rows = []
    access_p50 = {}
    for users in (2_000, args.memory_users):
        server, db = seed(args, workdir, log, users)
        try:
            token = server.admin_token()
            after_last = _last_cursor(server, token)
            cases = [
                (f'searchUsers(query: "{selective(users)}", first: 50)', Q_SEARCH, {"q": selective(users)}),
                ('… with totalCount', Q_SEARCH_TOTAL, {"q": selective(users)}),
                ("searchUsers(first: 50), first page", Q_SEARCH, {}),
                ("searchUsers(first: 50), a last page", Q_SEARCH, {"after": after_last}),
                ("… with totalCount, first page", Q_SEARCH_TOTAL, {}),
                ("… with totalCount, a last page", Q_SEARCH_TOTAL, {"after": after_last}),
                ("model(id) { access(first: 50) } (global read-model)", Q_ACCESS, None),
            ]
            for name, query, variables in cases:
                # Raises on any GraphQL error; then the median of sequential requests.
                server.gql(query, token, variables)
                median = median_latency(lambda: server.gql(query, token, variables), repeats=30, warmup=3)[0]
                rows.append([users, name, ms(median)])
                if query is Q_ACCESS:
                    access_p50[users] = median
            if users == args.memory_users:
                results = {}
                for name, query, variables in (("me { username }", Q_ME, None),
                                               ("allowed, 100 checks", Q_ALLOWED, None),
                                               ("allowed, 100 checks as a variable", Q_ALLOWED_VARIABLE, ALLOWED_CHECKS)):
                    w = ours._gql_workload(name, query, token, variables)
                    for c in (1, 32):
                        log(f"  wrk {name} c={c} {args.duration}s")
                        results[(name, c)] = run_wrk(w, server.port, c, args.duration, server.pid, server.logdir)
                        wait_idle(server.pid)
                allowed_vs_me = [
                    (f"{form}c={c}", results[(name, c)].rps / results[("me { username }", c)].rps)
                    for form, name in (("", "allowed, 100 checks"), ("as a variable, ", "allowed, 100 checks as a variable"))
                    for c in (1, 32)]
        finally:
            server.stop()
            db.drop()
    out(f"== admin screens (RULES §10), {args.database}: p50 of 30 sequential requests, ms ==")
    table(["users", "query", "p50 ms"], rows)
    out(f"Model.access(first: 50) p50 at {args.memory_users:,} users / at 2,000: "
        f"{ratio(access_p50[args.memory_users] / access_p50[2_000])}")
    out("allowed (100 checks) req/s / me { username } req/s: " +
        ", ".join(f"{label}: {ratio(r)}" for label, r in allowed_vs_me))
    out()
