"""The scale-out shape of deploy/ under steady load while its three processes are
restarted one after another (issue 16): every answer is 200 without `errors`, and
every acknowledged createUser exists at the end. Run by .ci/run; needs the machine's
PostgreSQL, HAProxy and PgBouncer (deploy/run.sh installs them), and MLTE_BIN."""

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


def gql(conn, query, token=None, variables=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", "/graphql", json.dumps({"query": query, "variables": variables or {}}), headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"null")


def main() -> int:
    env = dict(os.environ, DEPLOY_DIR=tempfile.mkdtemp(prefix="mlte-deploy-"), DEPLOY_DATABASE="mlte_rolling_restart",
               DEPLOY_PORT=str(free_port()), DEPLOY_BOUNCER_PORT=str(free_port()),
               DEPLOY_PORT_1=str(free_port()), DEPLOY_PORT_2=str(free_port()), DEPLOY_PORT_3=str(free_port()),
               MLTE_ADMIN_PASSWORD=ADMIN_PASSWORD)
    subprocess.run(["psql", "postgres://postgres@127.0.0.1:5432/postgres", "-qc",
                    "DROP DATABASE IF EXISTS mlte_rolling_restart WITH (FORCE)"], check=True)
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
        return 0 if not failures and not lost and len(created) > 0 else 1
    finally:
        subprocess.run(["bash", RUN, "stop"], env=env)


if __name__ == "__main__":
    sys.exit(main())
