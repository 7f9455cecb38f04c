"""Tiny HTTP/GraphQL client on the standard library (no pip packages on our side).

One keep-alive connection per thread and target, so the seeding thread pools do not pay
a TCP handshake per call.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import threading
import time
import urllib.parse

_local = threading.local()


class HttpError(RuntimeError):
    pass


def free_port() -> int:
    """A port nobody listens on right now (other engineers run servers on this machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _conn(port: int) -> http.client.HTTPConnection:
    conns = getattr(_local, "conns", None)
    if conns is None:
        conns = _local.conns = {}
    c = conns.get(port)
    if c is None:
        c = conns[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    return c


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, bytes]:
    """One request; retried once on a dropped keep-alive connection."""
    for attempt in (1, 2):
        c = _conn(port)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        except (http.client.HTTPException, ConnectionError, OSError):
            c.close()
            _local.conns.pop(port, None)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def get_json(port: int, path: str, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    status, body = request(port, "GET", path, headers=headers)
    if status >= 300:
        raise HttpError(f"GET {path}: {status} {body[:300]!r}")
    return json.loads(body)


def send_json(port: int, method: str, path: str, payload, token: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status, body = request(port, method, path, json.dumps(payload).encode(), headers)
    if status >= 300:
        raise HttpError(f"{method} {path}: {status} {body[:300]!r}")
    return json.loads(body) if body else None


def post_form(port: int, path: str, fields: dict) -> tuple[int, bytes]:
    body = urllib.parse.urlencode(fields).encode()
    return request(port, "POST", path, body,
                   {"Content-Type": "application/x-www-form-urlencoded"})


def graphql(port: int, query: str, token: str | None = None, variables=None) -> dict:
    """POST /graphql; raises on transport errors and on any GraphQL `errors` entry."""
    payload = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    out = send_json(port, "POST", "/graphql", payload, token)
    if out.get("errors"):
        raise HttpError(f"GraphQL errors: {json.dumps(out['errors'])[:500]}")
    return out["data"]


def wait_until_up(port: int, path: str, timeout: float, proc=None) -> None:
    """Poll `path` until it answers 200 (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise HttpError(f"server exited with {proc.returncode} before answering {path}")
        try:
            status, _ = request(port, "GET", path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise HttpError(f"no 200 from 127.0.0.1:{port}{path} within {timeout} s")


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


class ServerProcess:
    """A server started as a child process on loopback, its output in a log file."""

    proc: subprocess.Popen | None = None

    def launch(self, cmd: list[str], log_path: str, health_path: str, timeout: float,
               env=None, cwd=None) -> None:
        with open(log_path, "a") as log:
            self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL)
        wait_until_up(self.port, health_path, timeout=timeout, proc=self.proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
