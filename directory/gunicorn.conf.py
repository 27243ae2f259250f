"""Production gunicorn settings: `gunicorn -c directory/gunicorn.conf.py directory.wsgi`.

Sized for a small server (2 cores) with PostgreSQL on the same or another machine:
- one process per core (Python runs one thread at a time per process; more processes than
  cores only add memory and context switches),
- a few threads per process (gthread): while one thread waits for PostgreSQL or a slow client,
  another runs. workers x threads is also the number of database connections per server
  (CONN_MAX_AGE keeps one per thread): keep it under PostgreSQL's max_connections.
Every value can be overridden with an environment variable (README.md, "Deploying").
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(max(2, multiprocessing.cpu_count()))))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Behind a reverse proxy that keeps connections open to us.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # large CSV exports stream for a while
graceful_timeout = 30
# Recycle workers now and then: bounds the effect of any slow memory growth.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# Import the app once in the master: faster worker starts, shared memory, and a broken
# deployment fails at start rather than on the first request.
preload_app = True
# The proxy's address: only it may set X-Forwarded-For/-Proto (settings.BEHIND_HTTPS_PROXY).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Worker heartbeats in memory, not on a possibly slow disk.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Logs on stdout/stderr for the process manager. The access log has the path without the query
# string (searches can carry personal names: SECURITY.md), the status, bytes, milliseconds and
# the request id.
errorlog = "-"
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") != "0" else None
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def post_fork(server, worker):
    # preload_app imports Django in the master: never let a worker inherit a database socket.
    from django.db import connections

    connections.close_all()


def when_ready(server):
    # The preloaded app (Django, DRF, models, URL patterns, translations: ~110,000 objects) is
    # never freed: move it out of the garbage collector's reach before the workers fork. A
    # full (generation 2) collection then walks only what requests create, instead of pausing a
    # request for ~100 ms now and then (the p99 spikes of the benchmark), and the workers keep
    # sharing those memory pages with the master.
    gc.collect()
    gc.freeze()
