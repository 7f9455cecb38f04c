"""The scale-out shape of deploy/ (issue 16) against one process, on one PostgreSQL
database seeded once through the API:

- one process, direct: the default (named statements, its own pool of connections);
- one process through PgBouncer in transaction mode, with --unnamed-statements
  (process 1 of the deployment, addressed on its own port);
- three processes through HAProxy and PgBouncer: deploy/run.sh as README gives it.

All on the same machine, so the three processes share its cores with HAProxy,
PgBouncer, PostgreSQL and the load tool: the row measures what the shape costs here,
not what it gains on more machines."""

from __future__ import annotations

import os
import subprocess

from . import client, ours
from .dataset import Dataset
from .load import run_wrk, wait_idle

CONCURRENCIES = (1, 32)

KEYS = ("health", "me", "user", "me_models", "users_models", "login")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Deployment:
    """deploy/run.sh on the bench's database, with free ports and the bench's JWT key
    (so the tokens made against the single process stay valid)."""

    def __init__(self, binary: str, db: ours.Database, jwt_secret: str, workdir: str):
        self.dir = os.path.join(workdir, "deploy")
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, "jwt_secret"), "w") as f:
            f.write(jwt_secret)
        self.port, self.port_1, port_2, port_3, bouncer = (client.free_port() for _ in range(5))
        base = db.url.rsplit("/", 1)[0]
        self.env = dict(os.environ, DEPLOY_DIR=self.dir, DEPLOY_POSTGRES=base,
                        DEPLOY_DATABASE=db.dbname, DEPLOY_PORT=str(self.port),
                        DEPLOY_PORT_1=str(self.port_1), DEPLOY_PORT_2=str(port_2),
                        DEPLOY_PORT_3=str(port_3), DEPLOY_BOUNCER_PORT=str(bouncer),
                        MLTE_BIN=binary, MLTE_ADMIN_PASSWORD=ours.ADMIN_PASSWORD)

    def _run(self, verb: str) -> None:
        subprocess.run(["bash", os.path.join(REPO, "deploy/run.sh"), verb], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> "Deployment":
        self._run("start")
        return self

    def stop(self) -> None:
        self._run("stop")

    def pid_1(self) -> int:
        with open(os.path.join(self.dir, "mlte-1.pid")) as f:
            return int(f.read())


def run(args, workdir: str, log, out, table, ratio, cleanup: list) -> None:
    if args.database != "postgres":
        log("  --deploy measures PostgreSQL only (PgBouncer): use --database postgres")
        return
    ds = Dataset(args.users, args.models, args.per_user)
    db = ours.Database("postgres", f"deploy-{ds.tag}", workdir)
    server = ours.OurServer(args.binary, db, workdir).start()
    cleanup.append(server.stop)
    log(f"seeding deploy-{ds.tag}: {ds.describe()}")
    ours.seed(server, ds, log)
    admin = server.admin_token()
    user = server.login(ds.username(ds.probe_index), ds.password(ds.probe_index))
    named = [(k, w) for k, w in ours.workloads(ds, admin, user) if k in KEYS]

    results: dict = {}

    def measure(label: str, port: int, pid: int) -> None:
        for key, w in named:
            for c in CONCURRENCIES:
                log(f"  wrk {label}: {w.name} c={c} {args.duration}s")
                results[(label, key, c)] = run_wrk(w, port, c, args.duration, pid, workdir)
                wait_idle(pid)

    measure("one", server.port, server.pid)
    server.stop()

    deployment = Deployment(args.binary, db, server.jwt_secret, workdir).start()
    cleanup.append(deployment.stop)
    measure("bouncer", deployment.port_1, deployment.pid_1())
    measure("three", deployment.port, deployment.pid_1())
    deployment.stop()
    db.drop()

    out(f"== scale-out shape (deploy/), postgres: {ds.describe()}; {args.duration} s per run, "
        f"{os.cpu_count()} cores for everything ==")
    rows = []
    for key, w in named:
        for c in CONCURRENCIES:
            one, bouncer, three = (results[(label, key, c)] for label in ("one", "bouncer", "three"))
            rows.append([w.name, c, f"{one.rps:.1f}", f"{bouncer.rps:.1f}", f"{three.rps:.1f}",
                         ratio(bouncer.rps / one.rps) if one.rps else "n/a",
                         ratio(three.rps / one.rps) if one.rps else "n/a",
                         f"{one.p50_ms:.2f} / {three.p50_ms:.2f}",
                         f"{one.errors}/{bouncer.errors}/{three.errors}"])
    table(["workload", "conc", "req/s one", "req/s one via PgBouncer", "req/s three via HAProxy",
           "PgBouncer / one", "three / one", "p50 ms one / three", "errors"], rows, "lrrrrrrrr")
    out("one = one process, direct, default flags; one via PgBouncer = process 1 of the "
        "deployment on its own port (--unnamed-statements, transaction pooling, pool 10); "
        "three = deploy/run.sh: HAProxy, three processes, PgBouncer. Same database, data "
        "and tokens; each workload runs c=1 then c=32.")
    out()
