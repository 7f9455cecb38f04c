"""mlte-graphql: start the release binary on a fresh database, seed it through the
public GraphQL API, and describe the workloads."""

from __future__ import annotations

import base64
import concurrent.futures as cf
import json
import os
import subprocess
import time
import urllib.parse

from . import client
from .dataset import Dataset, chunks, default_groups, read_group
from .load import Workload

ADMIN_PASSWORD = "bench-admin-password"

# Batch sizes stay under the server's limits (30 aliases, 20 root fields per document).
# createUser costs one Argon2 hash; the fields of a mutation run one after the other, so
# small batches sent from several threads keep every Argon2 slot (one per core) busy.
USERS_PER_DOC = 5
ROWS_PER_DOC = 20
SEED_THREADS = 8


class Database:
    """A fresh database per dataset: a SQLite file, or a PostgreSQL database."""

    def __init__(self, kind: str, name: str, workdir: str):
        self.kind, self.name = kind, name
        if kind == "sqlite":
            self.path = os.path.join(workdir, f"{name}.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    os.unlink(self.path + suffix)
            self.url = f"sqlite://{self.path}"
        else:
            base = os.environ.get("MLTE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
            self.dbname = "mlte_bench_" + name.replace("-", "_")
            self.admin_url = base.rstrip("/") + "/postgres"
            self._psql(f"DROP DATABASE IF EXISTS {self.dbname} WITH (FORCE)")
            self._psql(f"CREATE DATABASE {self.dbname}")
            self.url = base.rstrip("/") + "/" + self.dbname

    def _psql(self, sql: str) -> None:
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self.admin_url, "-c", sql],
                       check=True, capture_output=True)

    def drop(self) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    os.unlink(self.path + suffix)
        else:
            self._psql(f"DROP DATABASE IF EXISTS {self.dbname} WITH (FORCE)")


class OurServer(client.ServerProcess):
    """One mlte-graphql process on loopback; its log goes to a file."""

    def __init__(self, binary: str, db: Database, logdir: str):
        self.binary, self.db, self.logdir = binary, db, logdir
        # The same key across restarts of one run keeps the tokens valid.
        self.jwt_secret = base64.b64encode(os.urandom(48)).decode()
        self.proc = None
        # More environment for the server, e.g. a longer request timeout.
        self.extra_env: dict = {}

    def start(self) -> "OurServer":
        self.port = client.free_port()
        env = dict(os.environ,
                   DATABASE_URL=self.db.url,
                   MLTE_LISTEN=f"127.0.0.1:{self.port}",
                   MLTE_JWT_SECRET=self.jwt_secret,
                   MLTE_ADMIN_PASSWORD=ADMIN_PASSWORD, **self.extra_env)
        self.launch([self.binary, "serve"], os.path.join(self.logdir, f"ours-{self.db.name}.log"),
                    "/health", timeout=60, env=env)
        return self

    # -- API helpers -----------------------------------------------------------------

    def gql(self, query: str, token: str | None = None, variables=None) -> dict:
        return client.graphql(self.port, query, token, variables)

    def login(self, username: str, password: str) -> str:
        q = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }"
        return self.gql(q, variables={"u": username, "p": password})["login"]["accessToken"]

    def admin_token(self) -> str:
        return self.login("admin", ADMIN_PASSWORD)


def _s(value: str) -> str:
    """A GraphQL string literal (JSON's escaping is valid GraphQL for these names)."""
    return json.dumps(value)


def seed(server: OurServer, ds: Dataset, log) -> dict:
    """Create the dataset through the API as admin; returns seconds per phase."""
    token = server.admin_token()
    timings = {}

    def run_docs(docs: list[str]) -> None:
        with cf.ThreadPoolExecutor(SEED_THREADS) as pool:
            for f in [pool.submit(server.gql, d, token) for d in docs]:
                f.result()

    # 1. Users: one Argon2 hash each; the server runs one per core and queues the rest.
    docs = []
    for batch in chunks(list(range(ds.users)), USERS_PER_DOC):
        fields = " ".join(
            f"u{i}: createUser(input: {{username: {_s(ds.username(i))}, "
            f"password: {_s(ds.password(i))}}}) {{ username }}" for i in batch)
        docs.append(f"mutation {{ {fields} }}")
    t0 = time.perf_counter()
    run_docs(docs)
    timings["createUser"] = time.perf_counter() - t0
    log(f"  seeded {ds.users} users in {timings['createUser']:.1f} s "
        f"({timings['createUser'] / max(ds.users, 1) * 1000:.1f} ms per user, Argon2-bound)")

    # 2. Models, as admin (an admin creator joins no group).
    docs = []
    for batch in chunks(ds.model_ids(), ROWS_PER_DOC):
        fields = " ".join(f"m{n}: createModel(id: {_s(m)}) {{ id }}" for n, m in enumerate(batch))
        docs.append(f"mutation {{ {fields} }}")
    t0 = time.perf_counter()
    run_docs(docs)
    timings["createModel"] = time.perf_counter() - t0

    # 3. Group lists: editUser replaces the list, so keep the defaults and add K reads.
    docs = []
    for batch in chunks(list(range(ds.users)), ROWS_PER_DOC):
        fields = []
        for i in batch:
            u = ds.username(i)
            groups = default_groups(u) + [read_group(m) for m in ds.models_of(i)]
            fields.append(f"e{i}: editUser(input: {{username: {_s(u)}, groups: "
                          f"[{', '.join(_s(g) for g in groups)}]}}) {{ username }}")
        docs.append(f"mutation {{ {' '.join(fields)} }}")
    t0 = time.perf_counter()
    run_docs(docs)
    timings["editUser"] = time.perf_counter() - t0
    log(f"  seeded {ds.models} models in {timings['createModel']:.1f} s, "
        f"group lists in {timings['editUser']:.1f} s")

    # Sanity check: the probe user sees exactly its K models.
    user_token = server.login(ds.username(ds.probe_index), ds.password(ds.probe_index))
    got = [m["id"] for m in server.gql("{ me { models { id } } }", user_token)["me"]["models"]]
    want = sorted(ds.models_of(ds.probe_index))
    if got != want:
        raise RuntimeError(f"seeding check failed: {ds.username(0)} reads {got}, expected {want}")
    return timings


# -- Workloads ---------------------------------------------------------------------------

Q_ME = "{ me { username role groups { name } } }"
Q_USERS_MODELS = "{ users { username models { id } } }"
Q_ME_MODELS = "{ me { models { id } } }"


def _gql_workload(name: str, query: str, token: str | None, variables=None) -> Workload:
    body = {"query": query}
    if variables:
        body["variables"] = variables
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Workload(name, "POST", "/graphql", json.dumps(body), headers, check_gql=True)


def workloads(ds: Dataset, admin_token: str, user_token: str) -> list[tuple[str, Workload]]:
    """(key, workload) pairs; keys match peer.workloads() for the comparison table."""
    u, p = ds.username(ds.probe_index), ds.password(ds.probe_index)
    target = ds.username(ds.target_index)
    return [
        ("health", Workload("GET /health", "GET", "/health")),
        ("me", _gql_workload("me {username role groups}", Q_ME, user_token)),
        ("user", _gql_workload(
            "user(u) {username role groups} (admin)",
            f"{{ user(username: {_s(target)}) {{ username role groups {{ name }} }} }}",
            admin_token)),
        ("users_models", _gql_workload(
            f"users {{username models}} (admin, {ds.users + 1} users)", Q_USERS_MODELS,
            admin_token)),
        ("me_models", _gql_workload("me {models}", Q_ME_MODELS, user_token)),
        ("login", _gql_workload(
            "login mutation (Argon2)",
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }",
            None, {"u": u, "p": p})),
        ("token", Workload(
            "POST /api/token (Argon2)", "POST", "/api/token",
            urllib.parse.urlencode({"grant_type": "password", "username": u, "password": p}),
            {"Content-Type": "application/x-www-form-urlencoded"})),
    ]
