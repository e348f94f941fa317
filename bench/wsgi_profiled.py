"""bench/wsgi_month.py's app under cProfile, for a look at where a gunicorn worker spends time.

    BENCH_DATABASE_URL=... BENCH_UPLOAD_FOLDER=... BENCH_PROFILE=/tmp/worker.prof \\
        .venv/bin/gunicorn --chdir . --workers 1 'bench.wsgi_profiled:serve()'

Every 500 requests the worker writes its cumulated profile to BENCH_PROFILE.<pid>; read it
with `python -m pstats`. The in-process profile (bench/month_profile.py) misses what only a
real server does: parsing real requests, cookies sent as a browser or wrk sends them.
"""

from __future__ import annotations

import cProfile
import os

from bench.wsgi_month import serve as serve_month


def serve():
    app = serve_month()
    inner = app.wsgi_app
    profiler = cProfile.Profile()
    path = f"{os.environ.get('BENCH_PROFILE', '/tmp/worker.prof')}.{os.getpid()}"
    count = 0

    def profiled(environ, start_response):
        nonlocal count
        profiler.enable()
        try:
            return inner(environ, start_response)
        finally:
            profiler.disable()
            count += 1
            if count % 500 == 0:
                profiler.dump_stats(path)

    app.wsgi_app = profiled
    return app
