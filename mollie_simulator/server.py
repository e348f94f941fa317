"""Serving the simulator on a real local port, in a background thread of this process."""

from __future__ import annotations

import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from mollie_simulator.simulator import MollieSimulator


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request: a test run would print hundreds of them."""

    def log_request(self, *args: object) -> None:
        pass


class RunningSimulator:
    """A simulator listening on host:port (port 0: any free port) until stop()."""

    def __init__(self, simulator: MollieSimulator, host: str = "127.0.0.1", port: int = 0) -> None:
        from mollie_simulator import create_simulator

        self.simulator = simulator
        # threaded: the app's webhook handler fetches the payment while the checkout
        # request that sent the webhook is still waiting for its answer
        self._server = make_server(
            host,
            port,
            create_simulator(simulator),
            threaded=True,
            request_handler=QuietRequestHandler,
        )
        # a short poll: stop() waits up to one interval, and tests stop a server each
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="mollie-simulator",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The API endpoint to give the client (`Client(api_endpoint=...)`), no slash."""
        return f"http://{self._server.host}:{self._server.server_port}"

    def stop(self) -> None:
        """Stop listening: from now on connections are refused."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_simulator(
    simulator: MollieSimulator | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    """Serve a simulator (a fresh one by default) in a thread; use as a context manager."""
    return RunningSimulator(simulator or MollieSimulator(), host, port)
