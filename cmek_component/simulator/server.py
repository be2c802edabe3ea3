"""``SimulatorServer``: the simulator on a real socket (threaded werkzeug server in a daemon thread)."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import Simulator


class _QuietHandler(WSGIRequestHandler):
    """No access log lines on stderr (tests); the request record has everything."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SimulatorServer:
    """A running simulator at ``url`` (``http://127.0.0.1:<port>``). Use as a context manager,
    or call ``start()`` / ``stop()``. ``port=0`` picks a free port."""

    def __init__(
        self, simulator: Simulator | None = None, port: int = 0, *, host: str = "127.0.0.1", quiet: bool = True
    ) -> None:
        self.simulator = simulator or Simulator()
        self.host = host
        self.port = port
        self.quiet = quiet
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("url: the server is not started; call start() first")
        return f"http://{self.host}:{self._server.port}"

    def bind(self) -> SimulatorServer:
        """Binds the socket without serving yet, so ``url`` is known before serving."""
        if self._server is None:
            handler: Any = _QuietHandler if self.quiet else None
            self._server = make_server(self.host, self.port, self.simulator, threaded=True, request_handler=handler)
        return self

    def start(self) -> SimulatorServer:
        """Serves in a daemon thread; returns at once."""
        if self._thread is not None:
            return self
        server = self.bind()._server
        assert server is not None
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="cmek-simulator", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serves in the calling thread until interrupted (the standalone server)."""
        server = self.bind()._server
        assert server is not None
        server.serve_forever()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is not None:
            if thread is not None:
                server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"SimulatorServer({where})"
