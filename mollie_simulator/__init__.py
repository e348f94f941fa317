"""A Mollie API v2 simulator: a real HTTP server for development, the demo and the tests.

`create_simulator()` builds the WSGI app; `start_simulator()` serves it on a local port in
a thread; `python -m mollie_simulator --port 5001` serves it on its own. Never in
production (config.py refuses a MOLLIE_API_ENDPOINT there).
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from mollie_simulator import api, checkout, controls
from mollie_simulator.errors import ApiError, error_response
from mollie_simulator.server import RunningSimulator, start_simulator
from mollie_simulator.simulator import MollieSimulator

__all__ = ["MollieSimulator", "RunningSimulator", "create_simulator", "start_simulator"]


def create_simulator(
    simulator: MollieSimulator | None = None, public_url: str | None = None
) -> Flask:
    """The simulator's WSGI app over `simulator` (a fresh one by default).

    public_url: the address written in `_links` (checkout, self) when the one the client
    used is not the one a browser should use.
    """
    app = Flask(__name__)
    app.extensions["mollie_simulator"] = simulator or MollieSimulator()
    app.config["MOLLIE_SIMULATOR_PUBLIC_URL"] = public_url.rstrip("/") + "/" if public_url else None
    app.register_blueprint(api.bp)
    app.register_blueprint(checkout.bp)
    app.register_blueprint(controls.bp)
    app.register_error_handler(ApiError, answer_api_error)
    app.register_error_handler(HTTPException, answer_http_error)
    return app


def answer_api_error(error: ApiError):
    """Mollie's JSON error, except on the checkout, which a person reads."""
    if request.blueprint == "checkout":
        return checkout.error_page(error)
    return error_response(error)


def answer_http_error(error: HTTPException):
    """Unknown routes and methods under /v2 answer in Mollie's shape too."""
    if request.path.startswith(("/v2/", "/_sim/")):
        return error_response(ApiError(error.code or 500, error.description or error.name))
    return error
