"""`python -m mollie_simulator --port 5001`: the simulator on its own, for `make run`."""

from __future__ import annotations

import argparse

from werkzeug.serving import make_server

from mollie_simulator import create_simulator
from mollie_simulator.simulator import MollieSimulator


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Mollie API v2 simulator (tests, demo).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument(
        "--api-key", action="append", help="accepted test_ key (repeatable; test_simulator)"
    )
    parser.add_argument("--public-url", help="address written in links (checkout, self)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    keys = tuple(arguments.api_key or ["test_simulator"])
    app = create_simulator(MollieSimulator(api_keys=keys), arguments.public_url)
    server = make_server(arguments.host, arguments.port, app, threaded=True)
    endpoint = f"http://{arguments.host}:{server.server_port}"
    print(
        f"Simulateur Mollie : MOLLIE_API_ENDPOINT={endpoint} MOLLIE_API_KEY={keys[0]}", flush=True
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


if __name__ == "__main__":
    main()
