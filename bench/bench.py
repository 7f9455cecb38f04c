#!/usr/bin/env python3
"""Benchmark driver for mlte-graphql (and, with --peer, MLTE 2.7.0's backend).

Called by bench/run.sh, which builds the binary and installs wrk (and the peer's
virtualenv) first. Python standard library only. Tables go to stdout (run.sh copies
them to bench/results/last.txt); progress goes to stderr.

Sections:
  1. main      seed U users / M models, then each workload at concurrency 1 and 32
  2. scaling   `users { username models { id } }` at U = 100 / 1,000 / 10,000 and
               login at M = 10 / 1,000 (one request at a time, median latency)
  3. peer      (--peer) the same workloads against MLTE's REST API at a small scale,
               mlte-graphql at that scale too, and the ratios
  4. audit     (--audit) editUser with the audit log against a build without it
  5. memory    (--memory) RULES §11's bounds: 32 concurrent listings of every user at
               2,000 and 100,000 users, seeded in SQL
  6. admin     (--admin) RULES §10's queries at 2,000 and 100,000 users: searchUsers,
               its first and last pages, Model.access, allowed against me
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from benchlib import admin, callers, deploy, memory, ours, peer  # noqa: E402
from benchlib.dataset import Dataset  # noqa: E402
from benchlib.load import RunResult, median_latency, run_wrk, wait_idle  # noqa: E402

CONCURRENCIES = (1, 32)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- output ------------------------------------------------------------------------------

def log(msg: str) -> None:
    """Progress, to stderr only."""
    print(msg, file=sys.stderr, flush=True)


def out(msg: str = "") -> None:
    """Results, to stdout (run.sh tees it into bench/results/last.txt)."""
    print(msg, flush=True)


def table(headers: list[str], rows: list[list], align: str | None = None) -> None:
    """A plain text table; `align` has one 'l' or 'r' per column (default: first left)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "l" + "r" * (len(headers) - 1)

    def line(r):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                         for c, w, a in zip(r, widths, align)).rstrip()

    out(line(cells[0]))
    out("  ".join("-" * w for w in widths))
    for r in cells[1:]:
        out(line(r))
    out()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def ratio(x: float) -> str:
    """Three significant digits, without exponents (1234 -> '1,234', 0.00123 -> '0.00123')."""
    if x != x or x in (float("inf"), 0.0):
        return "n/a"
    if x >= 100:
        return f"{x:,.0f}"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{digits}f}"


# -- runs --------------------------------------------------------------------------------

def run_workloads(server, named_workloads, duration: int, max_duration: int = 0) -> dict:
    """Each workload at each concurrency; returns {(key, c): RunResult}.

    With `max_duration`, a run at c>1 lasts long enough for about 1.5 rounds of c
    requests at the c=1 latency (up to max_duration): a 10 s run at c=32 would complete
    nothing on a server that takes a second per request and runs one at a time (MLTE).
    """
    results = {}
    for key, w in named_workloads:
        for c in CONCURRENCIES:
            d = duration
            single = results.get((key, 1))
            if max_duration and c > 1 and single and single.requests:
                d = int(min(max(duration, 1.5 * c * single.p50_ms / 1000 + 5), max_duration))
            log(f"  wrk {w.name} c={c} {d}s")
            results[(key, c)] = run_wrk(w, server.port, c, d, server.pid, server.logdir)
            waited = wait_idle(server.pid)
            if waited > 2:
                log(f"    (server busy {waited:.0f} s after the run: waited until idle)")
    return results


def results_table(named_workloads, results: dict) -> None:
    headers = ["workload", "conc", "secs", "req/s", "p50 ms", "p99 ms", "errors", "requests",
               "cpu us/req", "RSS max MiB", "VmHWM MiB", "req/s vs health"]
    rows = []
    for key, w in named_workloads:
        for c in CONCURRENCIES:
            r: RunResult = results[(key, c)]
            health = results.get(("health", c))
            rel = r.rps / health.rps if health and health.rps else float("nan")
            rows.append([w.name, c, r.duration, f"{r.rps:.1f}", f"{r.p50_ms:.2f}", f"{r.p99_ms:.2f}",
                         r.errors if not r.note else f"{r.errors} ({r.note})", r.requests,
                         f"{r.cpu_us_per_req:.0f}", f"{r.rss_max_mib:.1f}", f"{r.hwm_mib:.1f}",
                         ratio(rel)])
    table(headers, rows, "lrrrrrrrrrrr")


def start_seeded(args, ds: Dataset, name: str, workdir: str, restart: bool):
    """A fresh database seeded with `ds`; optionally restarted so that RSS and VmHWM
    show the serving process, not the seeding."""
    db = ours.Database(args.database, name, workdir)
    server = ours.OurServer(args.binary, db, workdir).start()
    log(f"seeding {name}: {ds.describe()}")
    timings = ours.seed(server, ds, log)
    if restart:
        server.stop()
        server.start()
    return server, db, timings


def gql_median(server, query: str, token: str, repeats: int) -> tuple[float, float, int]:
    size = len(str(server.gql(query, token)))
    med, best = median_latency(lambda: server.gql(query, token), repeats)
    return med, best, size


# -- sections ----------------------------------------------------------------------------

def section_main(args, workdir: str, cleanup: list) -> dict:
    ds = Dataset(args.users, args.models, args.per_user)
    server, db, timings = start_seeded(args, ds, f"main-{ds.tag}", workdir, restart=True)
    cleanup.append(server.stop)
    admin = server.admin_token()
    user = server.login(ds.username(ds.probe_index), ds.password(ds.probe_index))

    out(f"== mlte-graphql, {args.database}: {ds.describe()}; {args.duration} s per run ==")
    out(f"seeding through the API: createUser {timings['createUser']:.1f} s "
        f"({timings['createUser'] / ds.users * 1000:.1f} ms/user), createModel "
        f"{timings['createModel']:.1f} s, editUser {timings['editUser']:.1f} s")
    out()
    named = ours.workloads(ds, admin, user)
    results = run_workloads(server, named, args.duration)
    results_table(named, results)

    # Login is bounded by Argon2 by design; one login at a time shows the hash cost.
    probe = (ds.username(ds.probe_index), ds.password(ds.probe_index))
    login_med, login_min = median_latency(lambda: server.login(*probe), 11)
    me_med, _ = median_latency(lambda: server.gql(ours.Q_ME, user), 51)
    out(f"login, one at a time: median {ms(login_med)} ms (min {ms(login_min)} ms); a cheap "
        f"query: {ms(me_med)} ms => Argon2 hash ~{ms(login_med - me_med)} ms per login")
    out(f"login throughput is Argon2-bound by design (one hash per core): "
        f"c=32 reaches {results[('login', 32)].rps:.0f} logins/s on {os.cpu_count()} cores")
    floor_row(args, db, results)
    out()
    server.stop()
    return {"dataset": ds, "db": db, "server": server, "results": results}


def floor_row(args, db, results: dict) -> None:
    """The listing against its floor: the same answer from the store's reads and
    serde_json of plain structs, without GraphQL (examples/listing_floor.rs), on the
    same database, one at a time."""
    floor_bin = os.path.join(os.path.dirname(args.binary), "examples", "listing_floor")
    if not os.access(floor_bin, os.X_OK):
        out(f"floor: no {floor_bin} (bench/run.sh builds it)")
        return
    proc = subprocess.run([floor_bin, db.url, "51"], capture_output=True, text=True)
    m = re.search(r"median_ms=([0-9.]+) min_ms=([0-9.]+) bytes=(\d+) users=(\d+)", proc.stdout)
    if proc.returncode != 0 or not m:
        out(f"floor: failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
        return
    floor_ms, floor_min, size, users = float(m[1]), float(m[2]), int(m[3]), int(m[4])
    c1, c32 = results[("users_models", 1)], results[("users_models", 32)]
    out(f"floor of `users {{ username models {{ id }} }}` ({users} users, {size / 1024:.0f} KiB): the store's "
        f"reads + serde_json, no GraphQL, one at a time: median {floor_ms:.2f} ms (min {floor_min:.2f})")
    out(f"listing / floor: p50 at c=1 {c1.p50_ms:.2f} ms = {c1.p50_ms / floor_ms:.2f}x the floor; "
        f"c=32 {c32.rps:.1f} req/s = {c32.rps * floor_ms / 1000:.2f}x one core's floor rate")


def section_scaling(args, workdir: str, cleanup: list, main: dict | None) -> None:
    sizes = [100, 1000] + ([] if args.quick else [10000])
    out(f"== scaling: `users {{ username models {{ id }} }}` as admin, one request at a "
        f"time (median), M={args.models} models, {min(args.per_user, args.models)} "
        f"readable per user ==")
    if not args.quick:
        out("(U=10,000 seeds 10,000 users through createUser: ~10,000 Argon2 hashes on "
            f"{os.cpu_count()} cores, minutes; --quick skips it)")
    rows = []
    base = None
    for u in sizes:
        ds = Dataset(u, args.models, args.per_user)
        if main and main["dataset"] == ds:
            server = main["server"]  # same data: reuse the main database
            server.start()
            timings = None
        else:
            server, db, timings = start_seeded(args, ds, f"scale-{ds.tag}", workdir,
                                               restart=False)
        cleanup.append(server.stop)
        admin = server.admin_token()
        repeats = 5 if u >= 10000 else 21
        med, best, size = gql_median(server, ours.Q_USERS_MODELS, admin, repeats)
        base = base or med
        seed_note = f"{timings['createUser']:.0f} s" if timings else "(main db)"
        rows.append([f"{u:,}", ms(med), ms(best), f"{size / 1024:.0f}",
                     ratio(med / base), ms(med / (u + 1)), seed_note])
        server.stop()
        if not (main and main["dataset"] == ds):
            db.drop()
    table(["users", "median ms", "min ms", "response KiB", "x U=100", "ms per user",
           "createUser seeding"], rows)

    out("== login at M=10 vs M=1,000 models (10 users; one login at a time) ==")
    rows = []
    for m in (10, 1000):
        ds = Dataset(10, m, args.per_user)
        server, db, _ = start_seeded(args, ds, f"login-{ds.tag}", workdir, restart=False)
        cleanup.append(server.stop)
        probe = (ds.username(0), ds.password(0))
        med, best = median_latency(lambda: server.login(*probe), 11)
        rows.append([f"{m:,}", ms(med), ms(best)])
        server.stop()
        db.drop()
    table(["models", "median ms", "min ms"], rows)
    out(f"login M=1,000 / M=10: {ratio(float(rows[1][1]) / float(rows[0][1]))} (flat is ~1)")
    out()


def section_peer(args, workdir: str, cleanup: list) -> None:
    ds = Dataset(args.peer_users, args.peer_models, args.per_user)
    out(f"== peer comparison at a SMALL scale: {ds.describe()}; {args.duration} s per run ==")
    out("(MLTE 2.7.0 is too slow for the main scale: logins walk every model, and "
        "'all users with models' is one REST call per user)")
    out()

    # mlte-graphql at the peer's scale.
    server, db, _ = start_seeded(args, ds, f"peer-scale-{ds.tag}", workdir, restart=True)
    cleanup.append(server.stop)
    admin = server.admin_token()
    user = server.login(ds.username(ds.probe_index), ds.password(ds.probe_index))
    ours_named = ours.workloads(ds, admin, user)
    ours_res = run_workloads(server, ours_named, args.duration)
    ours_all_med, _, _ = gql_median(server, ours.Q_USERS_MODELS, admin, 21)
    server.stop()
    db.drop()
    out(f"-- mlte-graphql at U={ds.users}, M={ds.models} --")
    results_table(ours_named, ours_res)

    # MLTE's backend.
    p = peer.PeerServer(args.mlte_bin, workdir, workdir, ds.tag)
    cleanup.append(p.stop)
    log(f"starting MLTE backend ({args.mlte_bin})")
    p.start()
    log(f"seeding MLTE: {ds.describe()}")
    peer_timings = peer.seed(p, ds, log)
    p.stop()
    p.start()  # fresh process for the RSS figures
    padmin = p.token(peer.ADMIN_USER, peer.ADMIN_PASSWORD)
    puser = p.token(ds.username(ds.probe_index), ds.password(ds.probe_index))
    peer_named = peer.workloads(ds, padmin, puser)
    peer_res = run_workloads(p, peer_named, args.duration, args.peer_max_duration)
    log("MLTE: all users with models (details + one call per user)")
    peer_all_med, peer_all_min = median_latency(
        lambda: peer.all_users_with_models(p, padmin), args.peer_repeats)
    p.stop()
    out(f"-- MLTE 2.7.0 backend (uvicorn, SQLite store) at U={ds.users}, M={ds.models} --")
    out(f"seeding through its REST API: createUser {peer_timings['createUser']:.1f} s, "
        f"createModel {peer_timings['createModel']:.1f} s, group edits "
        f"{peer_timings['editUser']:.1f} s")
    results_table(peer_named, peer_res)

    # Ratios, ours / theirs.
    out(f"-- ratios, mlte-graphql / MLTE, at U={ds.users}, M={ds.models} "
        "(req/s ratio > 1 and latency ratio < 1: mlte-graphql is faster) --")
    names = {
        "health": "GET /health vs /api/healthz",
        "me": "me vs GET /api/user/me",
        "user": "user(u) vs GET /api/user/{u}",
        "me_models": "me {models} vs GET /api/user/me/models",
        "token": "POST /api/token vs POST /api/token",
    }
    rows = []
    for key, label in names.items():
        for c in CONCURRENCIES:
            o, t = ours_res[(key, c)], peer_res[(key, c)]
            rows.append([label, c, ratio(o.rps / t.rps if t.rps else float("nan")),
                         ratio(o.p50_ms / t.p50_ms if t.p50_ms else float("nan")),
                         ratio(o.p99_ms / t.p99_ms if t.p99_ms else float("nan")),
                         f"{o.errors}/{t.errors}",
                         ratio(o.rss_max_mib / t.rss_max_mib if t.rss_max_mib else float("nan"))])
    rows.append([f"all users with models: 1 query vs details + {ds.users + 1} calls", 1,
                 ratio(peer_all_med / ours_all_med), ratio(ours_all_med / peer_all_med), "-",
                 "0/0", "-"])
    table(["workload", "conc", "req/s ours/theirs", "p50 ours/theirs", "p99 ours/theirs",
           "errors ours/theirs", "RSS ours/theirs"], rows, "lrrrrrr")
    out(f"(all users with models: median wall time of the whole sequence, ours over 21 "
        f"runs, MLTE over {args.peer_repeats}; its req/s ratio is sequences per second)")
    out()


# -- main --------------------------------------------------------------------------------

def section_audit(args, workdir: str, cleanup: list) -> None:
    """editUser (no password) with the audit log against a build that skips it
    (--features bench-without-audit): the cost of writing the event in the mutation's
    transaction. Each binary runs twice, alternately, on a fresh database; the better
    run of each counts."""
    binaries = [("with audit log", args.binary), ("without (bench build)", args.binary_without_audit)]
    best: dict = {}
    for round_ in range(2):
        for label, binary in binaries:
            db = ours.Database(args.database, f"audit-{round_}-{'with' if binary == args.binary else 'without'}",
                               workdir)
            server = ours.OurServer(binary, db, workdir).start()
            cleanup.append(server.stop)
            admin = server.admin_token()
            server.gql('mutation { createUser(input: {username: "bench", password: "bench-password"}) '
                       '{ username } }', admin)
            w = ours._gql_workload("editUser (no password)",
                                   'mutation { editUser(input: {username: "bench", fullName: "Bench"}) '
                                   '{ username } }', admin)
            for c in CONCURRENCIES:
                log(f"  wrk editUser {label} c={c} {args.duration}s (round {round_ + 1})")
                r = run_wrk(w, server.port, c, args.duration, server.pid, server.logdir)
                wait_idle(server.pid)
                if (label, c) not in best or r.rps > best[(label, c)].rps:
                    best[(label, c)] = r
            server.stop()
            db.drop()
    out(f"== audit log: editUser (no password), {args.database}; best of 2 runs of {args.duration} s ==")
    rows = []
    for c in CONCURRENCIES:
        with_, without = best[(binaries[0][0], c)], best[(binaries[1][0], c)]
        rows.append([c, f"{with_.rps:.1f}", f"{without.rps:.1f}", ratio(with_.rps / without.rps),
                     f"{with_.p50_ms:.2f}", f"{without.p50_ms:.2f}", with_.errors + without.errors])
    table(["conc", "req/s with", "req/s without", "with / without", "p50 ms with", "p50 ms without",
           "errors"], rows)
    out()


def section_memory(args, workdir: str, cleanup: list) -> None:
    """RULES §11's bounds: 32 concurrent full listings at 2,000 users, and 32
    concurrent `users { username models { id } }` at 100,000 users (seeded in SQL)."""
    rows = []
    for users, query, bound in ((2_000, memory.Q_FULL, 256), (args.memory_users, memory.Q_MODELS, 512)):
        log(f"  memory: {users} users, 32 concurrent listings")
        row = memory.run_row(args, workdir, log, users, query, concurrency=32, rounds=args.memory_rounds)
        rows.append(row + [bound])
    out(f"== memory (RULES §11), {args.database}: 32 concurrent listings of every user, "
        f"{args.memory_rounds} each; {args.per_user} readable models per user ==")
    table(["users", "query", "conc", "requests", "failed", "answer MiB", "seconds", "RSS max MiB",
           "VmHWM MiB", "bound MiB"], rows)
    out("RSS max = the largest VmRSS sampled every 0.2 s; VmHWM = the process's peak since it "
        "started (it served one listing alone first, to measure the answer); failed = statuses "
        "other than 200 with data. The server runs with a 900 s request timeout here.")
    out()


def header(args) -> None:
    def cmd(*c):
        try:
            return subprocess.run(c, capture_output=True, text=True, cwd=REPO).stdout.strip()
        except OSError:
            return "?"
    commit = cmd("git", "rev-parse", "--short", "HEAD")
    dirty = " (+ uncommitted changes)" if cmd("git", "status", "--porcelain", "--", "src") else ""
    wrk = cmd("sh", "-c", "wrk -v 2>&1 | head -1").split(" [")[0]
    out(f"mlte-graphql benchmark, {datetime.datetime.now().isoformat(timespec='seconds')}")
    out(f"commit {commit}{dirty}; {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at start; "
        f"load tool {wrk} (1 thread), loopback")
    out("Shared, noisy machine: compare rows within one run (ratios), not absolute "
        "times across runs.")
    out("Columns: errors = non-2xx + socket errors + timeouts + 200s whose body has a GraphQL "
        "`errors` member (every body is checked); cpu us/req = the server process's CPU "
        "time / requests (PostgreSQL's own CPU not included); RSS max = highest VmRSS "
        "sampled every 0.2 s during the run; VmHWM = the process's peak so far; "
        "req/s vs health = req/s / GET /health's req/s at the same concurrency.")
    out()


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(REPO, "target/release/mlte-graphql"))
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--per-user", type=int, default=10, help="readable models per user")
    ap.add_argument("--duration", type=int, default=10, help="seconds per load run")
    ap.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--quick", action="store_true", help="skip the U=10,000 scaling row")
    ap.add_argument("--no-scaling", action="store_true", help="skip the scaling section")
    ap.add_argument("--no-main", action="store_true", help="skip the main section")
    ap.add_argument("--peer", action="store_true", help="also benchmark MLTE 2.7.0")
    ap.add_argument("--mlte-bin", default=os.path.join(REPO, "bench/.venv/bin/mlte"))
    ap.add_argument("--peer-users", type=int, default=10)
    ap.add_argument("--peer-models", type=int, default=20)
    ap.add_argument("--peer-max-duration", type=int, default=90,
                    help="longest MLTE run at c=32 (they are stretched to complete requests)")
    ap.add_argument("--peer-repeats", type=int, default=3,
                    help="runs of MLTE's all-users-with-models sequence")
    ap.add_argument("--audit", action="store_true",
                    help="also compare editUser with the audit log against a build without it")
    ap.add_argument("--memory", action="store_true",
                    help="also measure RULES §11's memory bounds (databases seeded in SQL)")
    ap.add_argument("--memory-users", type=int, default=100_000,
                    help="users of the second memory row (and of the large admin rows)")
    ap.add_argument("--admin", action="store_true",
                    help="also measure the admin screens' queries of RULES §10 (databases seeded in SQL)")
    ap.add_argument("--callers", action="store_true",
                    help="also measure `me` with 1, 5,000 and 20,000 distinct callers in rotation "
                         "(users seeded in SQL)")
    ap.add_argument("--deploy", action="store_true",
                    help="also measure deploy/'s shape (HAProxy, three processes, PgBouncer) "
                         "against one process; needs --database postgres")
    ap.add_argument("--memory-rounds", type=int, default=1, help="listings per client in the memory rows")
    ap.add_argument("--binary-without-audit",
                    default=os.path.join(REPO, "target/release/mlte-graphql-without-audit"))
    return ap.parse_args()


def main() -> int:
    args = parse_args()
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"no binary at {args.binary}: run `cargo build --release` (bench/run.sh does)")
    if not shutil.which("wrk"):
        sys.exit("wrk not found: `apt-get install -y wrk` (bench/run.sh does)")
    workdir = tempfile.mkdtemp(prefix="mlte-bench-")
    log(f"work directory (databases, server logs): {workdir}")
    cleanup: list = []
    t0 = time.monotonic()
    header(args)
    try:
        main_res = None if args.no_main else section_main(args, workdir, cleanup)
        if not args.no_scaling:
            section_scaling(args, workdir, cleanup, main_res)
        if main_res:
            main_res["db"].drop()
        if args.peer:
            section_peer(args, workdir, cleanup)
        if args.audit:
            section_audit(args, workdir, cleanup)
        if args.memory:
            section_memory(args, workdir, cleanup)
        if args.admin:
            admin.run(args, workdir, log, out, table, ms, ratio)
        if args.callers:
            callers.run(args, workdir, log, out, table, ratio, cleanup)
        if args.deploy:
            deploy.run(args, workdir, log, out, table, ratio, cleanup)
    finally:
        for stop in reversed(cleanup):
            try:
                stop()
            except Exception as e:  # keep stopping the others
                log(f"cleanup: {e}")
    out(f"total time {time.monotonic() - t0:.0f} s")
    log(f"server logs kept in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
