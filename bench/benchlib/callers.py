"""`me` with many distinct callers in rotation (issue 17): 1, 5,000 and 20,000 users
each send their own token, round robin, so every request of a rotation larger than a
cache misses it. The users are seeded in SQL (20,000 logins would be 20,000 Argon2
hashes) and their tokens are signed here with the server's key, as a login would.

The one-caller row runs through the same rotating script, with a list of one token,
so that the load tool does the same work in every row."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import time

from . import memory, ours
from .load import Workload, run_wrk, wait_idle

CONCURRENCIES = (1, 32)
ROTATIONS = (1, 5_000, 20_000)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(secret: str, username: str, version: str, ttl: int = 3600) -> str:
    """An HS256 token with the claims the server issues (RULES §6, §8)."""
    now = int(time.time())
    header = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    claims = {"sub": username, "iat": now, "exp": now + ttl, "ver": version, "sst": now}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def run(args, workdir: str, log, out, table, ratio, cleanup: list, query: str = ours.Q_ME) -> None:
    users = max(ROTATIONS)
    db = ours.Database(args.database, f"callers-{users}", workdir)
    server = ours.OurServer(args.binary, db, workdir)
    server.start()
    server.stop()
    t0 = time.perf_counter()
    memory._run_sql(db, memory.seed_sql(db.kind, users, 100, 10))
    log(f"  seeded {users} users in SQL in {time.perf_counter() - t0:.1f} s")
    server.start()
    cleanup.append(server.stop)
    # The users are seeded with token version 'seeded' (memory.seed_sql).
    tokens = [sign(server.jwt_secret, f"user-{i:06d}", "seeded") for i in range(users)]
    probe = server.gql("{ me { username } }", tokens[-1])
    if probe["me"]["username"] != f"user-{users - 1:06d}":
        raise RuntimeError(f"a signed token was not accepted: {probe}")

    body = json.dumps({"query": query})
    results = {}
    for n in ROTATIONS:
        path = os.path.join(workdir, f"tokens-{n}.txt")
        with open(path, "w") as f:
            f.write("\n".join(tokens[:n]) + "\n")
        w = Workload(f"me, {n} callers", "POST", "/graphql", body, {"Content-Type": "application/json"},
                     check_gql=True, tokens_file=path)
        # Warm-up: at least two whole rotations (at c=32, a few thousand requests a
        # second), so that the runs measure the rotation in its steady state, not
        # callers seen for the first time.
        warm = max(2, math.ceil(2 * n / 2500))
        log(f"  wrk {w.name} warm-up c=32 {warm}s")
        run_wrk(w, server.port, 32, warm, server.pid, workdir)
        wait_idle(server.pid)
        for c in CONCURRENCIES:
            log(f"  wrk {w.name} c={c} {args.duration}s")
            results[(n, c)] = run_wrk(w, server.port, c, args.duration, server.pid, workdir)
            wait_idle(server.pid)
    server.stop()
    db.drop()

    out(f"== `me` with distinct callers in rotation, {args.database}: {users} users seeded in SQL; "
        f"{args.duration} s per run, after two rotations at c=32 ==")
    rows = []
    for n in ROTATIONS:
        for c in CONCURRENCIES:
            r, one = results[(n, c)], results[(1, c)]
            rows.append([n, c, f"{r.rps:.1f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}", r.errors,
                         f"{r.rss_max_mib:.1f}", ratio(r.rps / one.rps) if one.rps else "n/a"])
    table(["callers", "conc", "req/s", "p50 ms", "p99 ms", "errors", "RSS max MiB", "vs one caller"], rows)
    out(f"query: {query}; each request carries the next caller's token, round robin.")
    out()
