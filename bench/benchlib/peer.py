"""MLTE 2.7.0's FastAPI backend (the peer): start it on a SQLite store, seed the same
dataset through its REST API, and describe the equivalent REST calls.

What we learned running it (mlte 2.7.0, `pip install 'mlte[backend,rdbs]==2.7.0'`):
- `mlte backend --host H --port P --store-uri sqlite:////abs/file.db --jwt-secret S`;
  the `rdbs` extra (SQLAlchemy) is needed for a sqlite:// store, `backend` for
  FastAPI/uvicorn/python-jose/python-multipart. It also reads `.env.backend` from the
  working directory, so we start it in an empty one.
- The first start creates user `admin` / `admin1234` (mlte/store/user/store.py), the
  15 base groups, and loads sample catalog and custom lists (a few seconds).
- Health: GET /api/healthz. Token: POST /api/token (form, grant_type=password).
- Users: POST /api/user {username, password}; PUT /api/user {username, groups: [{name}]}
  (no password: the hash is kept; `groups` replaces the list); GET /api/user/{u},
  /api/user/me, /api/users/details (every user with groups *and hashed password*),
  /api/user/{u}/models and /api/user/me/models (list[str]).
- Models: POST /api/model {identifier}; it creates read-/edit-model-<id> and puts the
  creator (admin too) in both.
- Passwords are bcrypt (12 rounds); every login also walks every model to create
  missing model policies, so login cost grows with the number of models.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.parse

from . import client
from .dataset import Dataset, default_groups, read_group
from .load import Workload

ADMIN_USER, ADMIN_PASSWORD = "admin", "admin1234"


class PeerServer(client.ServerProcess):
    def __init__(self, mlte_bin: str, workdir: str, logdir: str, name: str):
        self.mlte_bin, self.name, self.logdir = mlte_bin, name, logdir
        self.dir = os.path.join(workdir, f"peer-{name}")
        os.makedirs(self.dir, exist_ok=True)
        self.db_path = os.path.join(self.dir, "mlte.db")
        if os.path.exists(self.db_path):
            os.unlink(self.db_path)
        self.jwt_secret = secrets.token_hex(32)
        self.proc = None

    def start(self) -> "PeerServer":
        self.port = client.free_port()
        cmd = [self.mlte_bin, "backend", "--host", "127.0.0.1", "--port", str(self.port),
               "--store-uri", f"sqlite:///{self.db_path}", "--jwt-secret", self.jwt_secret]
        self.launch(cmd, os.path.join(self.logdir, f"peer-{self.name}.log"), "/api/healthz",
                    timeout=120, cwd=self.dir)
        return self

    def token(self, username: str, password: str) -> str:
        status, body = client.post_form(self.port, "/api/token", {
            "grant_type": "password", "username": username, "password": password})
        if status != 200:
            raise client.HttpError(f"/api/token for {username}: {status} {body[:200]!r}")
        return json.loads(body)["access_token"]


def seed(server: PeerServer, ds: Dataset, log) -> dict:
    """Same data as ours.seed, through MLTE's REST API. Sequential on purpose: MLTE on
    SQLite is not built for concurrent writers, and the peer scale is small."""
    port = server.port
    token = server.token(ADMIN_USER, ADMIN_PASSWORD)
    timings = {}

    t0 = time.perf_counter()
    for i in range(ds.users):
        client.send_json(port, "POST", "/api/user",
                         {"username": ds.username(i), "password": ds.password(i)}, token)
    timings["createUser"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for m in ds.model_ids():
        client.send_json(port, "POST", "/api/model", {"identifier": m}, token)
    timings["createModel"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for i in range(ds.users):
        u = ds.username(i)
        groups = default_groups(u) + [read_group(m) for m in ds.models_of(i)]
        client.send_json(port, "PUT", "/api/user",
                         {"username": u, "groups": [{"name": g} for g in groups]}, token)
    timings["editUser"] = time.perf_counter() - t0
    log(f"  peer seeded {ds.users} users in {timings['createUser']:.1f} s, "
        f"{ds.models} models in {timings['createModel']:.1f} s, "
        f"group lists in {timings['editUser']:.1f} s")

    # Sanity check, as for ours.
    user_token = server.token(ds.username(ds.probe_index), ds.password(ds.probe_index))
    got = sorted(client.get_json(port, "/api/user/me/models", user_token))
    if got != sorted(ds.models_of(ds.probe_index)):
        raise RuntimeError(f"peer seeding check failed: {got}")
    return timings


def all_users_with_models(server: PeerServer, admin_token: str) -> int:
    """MLTE has no single call for this: the details listing, then one call per user."""
    users = client.get_json(server.port, "/api/users/details", admin_token)
    n = 0
    for u in users:
        n += len(client.get_json(server.port,
                                 f"/api/user/{urllib.parse.quote(u['username'])}/models",
                                 admin_token))
    return n


def workloads(ds: Dataset, admin_token: str, user_token: str) -> list[tuple[str, Workload]]:
    u, p = ds.username(ds.probe_index), ds.password(ds.probe_index)
    target = ds.username(ds.target_index)
    user_auth = {"Authorization": f"Bearer {user_token}"}
    admin_auth = {"Authorization": f"Bearer {admin_token}"}
    return [
        ("health", Workload("GET /api/healthz", "GET", "/api/healthz")),
        ("me", Workload("GET /api/user/me", "GET", "/api/user/me", headers=user_auth)),
        ("user", Workload("GET /api/user/{u} (admin)", "GET", f"/api/user/{target}",
                          headers=admin_auth)),
        ("me_models", Workload("GET /api/user/me/models", "GET", "/api/user/me/models",
                               headers=user_auth)),
        ("token", Workload(
            "POST /api/token (bcrypt)", "POST", "/api/token",
            urllib.parse.urlencode({"grant_type": "password", "username": u, "password": p}),
            {"Content-Type": "application/x-www-form-urlencoded"})),
    ]
