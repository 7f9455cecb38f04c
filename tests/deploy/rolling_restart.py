"""The scale-out shape of deploy/ under steady load while its three processes are
restarted one after another (issue 16): every answer is 200 without `errors`, and
every acknowledged createUser exists at the end. Then, through HAProxy across the
three processes: the username lock and the per-address limit (the client's address
from X-Forwarded-For, RULES §6) hold, and a disabled user's token stops working on
every process at once. Run by .ci/run; needs the machine's PostgreSQL, HAProxy and
PgBouncer (deploy/run.sh installs them), and MLTE_BIN."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "..", "..", "deploy", "run.sh")
ADMIN_PASSWORD = "rolling-restart-admin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gql(conn, query, token=None, variables=None, forwarded_for=None):
    headers = {"Content-Type": "application/json"}
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", "/graphql", json.dumps({"query": query, "variables": variables or {}}), headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"null")


def code(body):
    errors = (body or {}).get("errors") or [{}]
    return (errors[0].get("extensions") or {}).get("code")


def across_the_pool(port, admin, login) -> list:
    """Each request on a connection of its own: HAProxy sends them round robin to
    the three processes."""
    def ask(query, token=None, variables=None, forwarded_for=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        return gql(conn, query, token, variables, forwarded_for)[1]

    problems = []
    create = "mutation($u: String!) { createUser(input: {username: $u, password: \"password-of-pool\"}) { username } }"
    for name in ("locked", "disabled"):
        ask(create, admin, {"u": name})
    # Five failures for one username, spread over the processes, lock it on all.
    failed = [code(ask(login, None, {"u": "locked", "p": f"wrong-{i}"})) for i in range(5)]
    after = [code(ask(login, None, {"u": "locked", "p": "password-of-pool"})) for _ in range(3)]
    if failed != ["UNAUTHENTICATED"] * 5 or after != ["RATE_LIMITED"] * 3:
        problems.append(f"username lock: {failed} then {after}")
    # One client address (X-Forwarded-For, behind the trusted proxy) at its limit of
    # 100 failures is refused; another client is not.
    for i in range(100):
        ask(login, None, {"u": f"nobody-{i}", "p": "wrong"}, "203.0.113.7")
    refused = code(ask(login, None, {"u": "disabled", "p": "password-of-pool"}, "203.0.113.7"))
    other = code(ask(login, None, {"u": "disabled", "p": "password-of-pool"}, "203.0.113.8"))
    if refused != "RATE_LIMITED" or other is not None:
        problems.append(f"address limit: the limited client got {refused}, another {other}")
    # Disabled through one process: its token fails on every process at once.
    token = ask(login, None, {"u": "disabled", "p": "password-of-pool"}, "203.0.113.9")["data"]["login"]["accessToken"]
    before = [code(ask("{ me { username } }", token)) for _ in range(3)]
    ask("mutation { editUser(input: {username: \"disabled\", disabled: true}) { username } }", admin)
    after = [code(ask("{ me { username } }", token)) for _ in range(6)]
    if before != [None] * 3 or None in after:
        problems.append(f"disabled user: {before} then {after}")
    return problems


def main() -> int:
    database = os.environ.get("DEPLOY_DATABASE", "mlte_rolling_restart")
    env = dict(os.environ, DEPLOY_DIR=tempfile.mkdtemp(prefix="mlte-deploy-"), DEPLOY_DATABASE=database,
               DEPLOY_PORT=str(free_port()), DEPLOY_BOUNCER_PORT=str(free_port()),
               DEPLOY_PORT_1=str(free_port()), DEPLOY_PORT_2=str(free_port()), DEPLOY_PORT_3=str(free_port()),
               MLTE_ADMIN_PASSWORD=ADMIN_PASSWORD)
    subprocess.run(["psql", "postgres://postgres@127.0.0.1:5432/postgres", "-qc",
                    f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=True)
    subprocess.run(["bash", RUN, "start"], env=env, check=True)
    port = int(env["DEPLOY_PORT"])
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        login = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }"
        admin = gql(conn, login, None, {"u": "admin", "p": ADMIN_PASSWORD})[1]["data"]["login"]["accessToken"]
        users = {}
        for i in range(4):
            name = f"steady{i}"
            gql(conn, "mutation($u: String!) { createUser(input: {username: $u, password: \"password-of-steady\"}) "
                      "{ username } }", admin, {"u": name})
            users[name] = gql(conn, login, None, {"u": name, "p": "password-of-steady"})[1]["data"]["login"]["accessToken"]

        stop = threading.Event()
        lock = threading.Lock()
        counts, failures, created = {}, [], []

        def worker(w: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            n = 0
            while not stop.is_set():
                n += 1
                name = f"steady{n % 4}"
                kind = ["me", "users", "login", "editUser", "createUser"][n % 5]
                try:
                    if kind == "me":
                        status, body = gql(conn, "{ me { username } }", users[name])
                    elif kind == "users":
                        status, body = gql(conn, "{ users { username } }", admin)
                    elif kind == "login":
                        status, body = gql(conn, login, None, {"u": name, "p": "password-of-steady"})
                    elif kind == "editUser":
                        status, body = gql(conn, "mutation($u: String!, $f: String!) { editUser(input: "
                                                 "{username: $u, fullName: $f}) { username } }", admin,
                                           {"u": name, "f": f"w{w} n{n}"})
                    else:
                        new = f"made-{w}-{n}"
                        status, body = gql(conn, "mutation($u: String!) { createUser(input: {username: $u, "
                                                 "password: \"password-of-made\"}) { username } }", admin, {"u": new})
                        if status == 200 and body and not body.get("errors"):
                            with lock:
                                created.append(new)
                    ok = status == 200 and body is not None and not body.get("errors")
                except Exception as error:  # a connection the balancer or a process dropped
                    ok, status, body = False, None, repr(error)
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                with lock:
                    counts[kind] = counts.get(kind, 0) + 1
                    if not ok:
                        failures.append((kind, status, str(body)[:300]))

        threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        time.sleep(2)
        subprocess.run(["bash", RUN, "restart"], env=env, check=True)
        time.sleep(2)
        stop.set()
        for t in threads:
            t.join()

        listed = {u["username"] for u in gql(conn, "{ users { username } }", admin)[1]["data"]["users"]}
        lost = [name for name in created if name not in listed]
        print(f"rolling restart: {sum(counts.values())} requests {counts}, {len(failures)} failed, "
              f"{len(created)} users created, {len(lost)} lost")
        for failure in failures[:10]:
            print("  failed:", failure)
        problems = across_the_pool(port, admin, login)
        for problem in problems:
            print("  across the pool:", problem)
        if not problems:
            print("across the pool: the username lock, the per-address limit (X-Forwarded-For) and a disabled "
                  "user's token held on every process")
        return 0 if not failures and not lost and len(created) > 0 and not problems else 1
    finally:
        subprocess.run(["bash", RUN, "stop"], env=env)


if __name__ == "__main__":
    sys.exit(main())
