"""`manage.py benchmark --http`: the organisation list, search and detail over real HTTP.

gunicorn is started with the production configuration (directory/gunicorn.conf.py) on a free
local port (8101-8109) against the benchmark's database; a load client of plain threads, each
with its own keep-alive `http.client` connection, sends requests for a fixed time at
concurrency 1 and 8, after a warm-up. Reported per (scenario, concurrency): requests/s,
p50/p95/p99 latency (ms, measured by the client: network, gunicorn, Django and PostgreSQL),
response bytes and errors (any status other than 200). The client runs on the same machine
and takes some of its CPU: the figures are a lower bound of what the server can do.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connection

from ..models import Organisation
from . import seed as seeding
from .scenarios import percentile

PORTS = range(8101, 8110)
CONCURRENCY = (1, 8)
TARGET = {"name": "org_list", "concurrency": 8, "requests_per_s": 150, "p95_ms": 100}
CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def free_port(ports=PORTS) -> int:
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free port in {ports.start}-{ports.stop - 1}.")


def database_url(settings_dict) -> str:
    """The URL of the database the benchmark uses now (its own, or the test database)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(settings_dict['NAME'])}"


class Gunicorn:
    """gunicorn in a subprocess with the repository's configuration; stopped (SIGTERM to the
    process it started, then SIGKILL) when the block ends."""

    def __init__(self, *, workers: int | None = None, threads: int | None = None):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile(
            "w+", prefix="benchmark-gunicorn-", suffix=".log", delete=False
        )
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "DJANGO_SETTINGS_MODULE": "directory.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOCAL_HTTP": "1",  # plain HTTP on the loopback: no redirect to HTTPS
            "DEBUG": "0",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_ACCESS_LOG": "0",
            "LOG_LEVEL": "WARNING",
            # Throttling stays on (its cache work is part of each request), never reached.
            **{f"THROTTLE_{scope}": "1000000/s" for scope in ("ANON", "USER", "TOKEN", "EXPORT")},
        }
        if workers:
            self.env["GUNICORN_WORKERS"] = str(workers)
        if threads:
            self.env["GUNICORN_THREADS"] = str(threads)
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "directory.wsgi:application"],
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                status, _body = fetch(self.port, "/healthz")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s:\n{self.log_tail()}")

    def log_tail(self, lines=30) -> str:
        self.log.flush()
        return "".join(Path(self.log.name).read_text(errors="replace").splitlines(True)[-lines:])

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        os.unlink(self.log.name)
        return False


def effective_config(env: dict) -> dict:
    """The configuration file's values under the server's environment."""
    import runpy
    from unittest import mock

    with mock.patch.dict(os.environ, env, clear=True):
        return runpy.run_path(str(CONFIG))


def fetch(port: int, path: str, timeout: float = 5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def load(port: int, path: str, concurrency: int, seconds: float) -> dict:
    """`concurrency` clients, each sending its next request as soon as the last one is answered,
    for `seconds`; one keep-alive connection per client."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    sizes = [0] * concurrency
    start = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def client(i: int):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Accept": "application/json, text/html", "Connection": "keep-alive"}
        start.wait()
        while True:
            t0 = time.perf_counter()
            if t0 >= deadline[0]:
                break
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok, body = False, b""
            latencies[i].append(time.perf_counter() - t0)
            if ok:
                sizes[i] = len(body)
            else:
                errors[i] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    samples = [s for per_client in latencies for s in per_client]
    return {
        "requests": len(samples),
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(samples) / elapsed, 1) if elapsed else None,
        "p50_ms": percentile(samples, 50),
        "p95_ms": percentile(samples, 95),
        "p99_ms": percentile(samples, 99),
        "bytes": max(sizes) or None,
        "errors": sum(errors),
    }


def scenarios() -> list[tuple[str, str]]:
    """(name, path): what an anonymous visitor asks for most."""
    api = "/api/v1/organisations/"
    public = Organisation.objects.filter(visibility="public", status="active")
    detail = (
        public.filter(website=f"https://org0.{seeding.MARKER_DOMAIN}")
        .values_list("pk", flat=True)
        .first()
        or public.order_by("pk").values_list("pk", flat=True).first()
    )
    out = [
        # The serving stack's own cost (gunicorn, middleware, one SELECT 1): the HTTP floor.
        ("healthz", "/healthz"),
        ("org_list", api),
        ("org_search_latin", f"{api}?{urlencode({'q': 'Kylym Shamy'})}"),
        ("org_search_cyrillic", f"{api}?{urlencode({'q': 'Кылым Шамы'})}"),
    ]
    if detail:
        out.append(("org_detail", f"{api}{detail}/"))
    out.append(("org_list_html", "/organisations/"))
    return out


def run(
    *,
    seconds: float = 5.0,
    concurrency=CONCURRENCY,
    warmup: float = 1.0,
    stream=None,
    workers: int | None = None,
    threads: int | None = None,
) -> dict:
    """Start gunicorn, load every scenario at each concurrency, stop gunicorn."""

    def log(text):
        if stream is not None:
            stream.write(text + "\n")
            stream.flush()

    todo = scenarios()
    results = []
    # Autovacuum may be off (it is on this project's benchmark machines) and the in-process
    # run's imports rewrite every organisation's contact date: without the visibility map the
    # list's COUNT reads ~30,000 heap rows (46 ms instead of 2.4 ms at full scale), which a live
    # server's autovacuum would have fixed within a minute.
    began = time.perf_counter()
    seeding.analyse()
    log(f"  VACUUM ANALYZE {time.perf_counter() - began:.1f} s")
    with Gunicorn(workers=workers, threads=threads) as server:
        config = effective_config(server.env)
        server_info = {
            "port": server.port,
            "config": "directory/gunicorn.conf.py",
            "workers": config["workers"],
            "threads": config["threads"],
            "worker_class": config["worker_class"],
            "cpus": os.cpu_count(),
        }
        log(f"  gunicorn on 127.0.0.1:{server.port}")
        for name, path in todo:
            status, body = fetch(server.port, path, timeout=30)
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status} from gunicorn:\n{server.log_tail()}")
            for level in concurrency:
                # Warm-up: every worker and thread has run the view, connections are open.
                load(server.port, path, level, warmup)
                result = {
                    "name": name,
                    "path": path,
                    "concurrency": level,
                    **load(server.port, path, level, seconds),
                }
                results.append(result)
                log(
                    f"  http {name:<22} c={level:<2} {result['requests_per_s']:>7} req/s  "
                    f"p50 {result['p50_ms']} ms  p95 {result['p95_ms']} ms  errors {result['errors']}"
                )
    return {
        "server": server_info,
        "seconds_per_run": seconds,
        "results": results,
        "checks": checks(results),
    }


def checks(results: list[dict]) -> list[str]:
    out = []
    for r in results:
        if r["errors"]:
            out.append(f"FAIL {r['name']} c={r['concurrency']}: {r['errors']} errors")
    target = next(
        (
            r
            for r in results
            if r["name"] == TARGET["name"] and r["concurrency"] == TARGET["concurrency"]
        ),
        None,
    )
    if target:
        ok = (
            target["requests_per_s"] >= TARGET["requests_per_s"]
            and target["p95_ms"] <= TARGET["p95_ms"]
        )
        out.append(
            f"{'ok  ' if ok else 'MISS'} {TARGET['name']} at c={TARGET['concurrency']}: "
            f"{target['requests_per_s']} req/s (target >= {TARGET['requests_per_s']}), "
            f"p95 {target['p95_ms']} ms (target <= {TARGET['p95_ms']})"
        )
    return out


def table(data: dict) -> str:
    head = f"{'HTTP (gunicorn)':<24}{'c':>3}{'req/s':>9}{'p50':>8}{'p95':>8}{'p99':>8}{'bytes':>9}{'errors':>7}"
    lines = [head, "-" * len(head)]
    for r in data["results"]:
        lines.append(
            f"{r['name']:<24}{r['concurrency']:>3}{r['requests_per_s']:>9}{r['p50_ms']:>8}"
            f"{r['p95_ms']:>8}{r['p99_ms']:>8}{r['bytes'] or 0:>9,}{r['errors']:>7}"
        )
    server = data["server"]
    lines.append(
        f"gunicorn: {server['workers']} workers x {server['threads']} threads ({server['worker_class']}), "
        f"{server['cpus']} CPUs, {data['seconds_per_run']} s per run"
    )
    lines += data["checks"]
    return "\n".join(lines)
