"""The smallest Flask app, the yardstick of bench/month_vs_hello.py.

    .venv/bin/gunicorn --chdir . bench.hello_app:app

Answers "hello" at /, nothing else: what gunicorn and Flask cost with no work at all.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "hello"
