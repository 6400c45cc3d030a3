"""gunicorn settings for hailong: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be changed without editing this file: gunicorn's own command-line flags win over
it (`--bind`, `--workers`, ...), and the environment variables below are read here. See
docs/deploy.md for the systemd unit and the nginx site that go with it, and
docs/performance.md for the measurements behind the defaults.
"""

import multiprocessing
import os

# nginx on the same machine talks to us over loopback; several instances behind a load
# balancer bind to a private address instead (GUNICORN_BIND=10.0.0.5:8000).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Requests are short and mostly CPU (templates, CSRF, hashing) with a database round trip in
# the middle: a few processes per core for the CPU, a few threads each to overlap the waits.
# WEB_CONCURRENCY is the conventional override for the number of processes.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# A worker silent for this long is killed and replaced; no request of ours should take 30 s.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# On SIGTERM (systemctl stop/restart), requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Idle keep-alive connections from nginx or the load balancer are closed after this.
keepalive = 5
# Recycle a worker after this many requests (jittered so they don't all restart at once):
# bounds slow memory growth in long-running processes. 0 turns it off.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10

# Load the app once in the master, before forking. A broken configuration (no SECRET_KEY, a
# bad DATABASE_URL) then stops the master at start instead of crash-looping the workers, and
# the workers share the imported code's memory. The price: `kill -HUP` does not load new code,
# so deploy with `systemctl restart`. Database connections are never opened in the master;
# `post_fork` drops any pool the master might hold so no socket is shared between processes.
preload_app = True

# Only nginx on this machine may tell us the original scheme (X-Forwarded-Proto). The client
# address itself is taken from X-Forwarded-For by the app when TRUSTED_PROXIES=1.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs go to stdout/stderr, which systemd sends to the journal. The access log leaves out the
# client address on purpose: hailong never keeps a citizen's IP (responses store only a keyed,
# daily-rotated hash), and behind nginx the address would be nginx's anyway. It also logs the
# path without the query string. Fields: time, method, path, protocol, status, bytes, ms.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "hailong"


def post_fork(server, worker):
    """Each worker starts with empty connection pools of its own."""
    from survey.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
