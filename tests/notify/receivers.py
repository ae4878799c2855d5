"""Real local receivers for delivery tests: an HTTP server and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nobody listens on right now (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One HTTP request as the receiver saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.received: list[Received] = []
        self.status = 200
        self.delay = 0.0
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender that went away mid-request (a run killed by a test) leaves nothing to
        report; anything else is printed as socketserver prints it."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(body) < length:
            # The sender went away between its headers and the end of its body (a run killed
            # by a test): an unfinished request, which a real endpoint drops, delivered nothing.
            return
        with self.server.lock:
            self.server.received.append(
                Received(self.command, self.path, dict(self.headers.items()), body)
            )
        if self.server.delay:
            time.sleep(self.server.delay)
        self.send_response(self.server.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass


class HttpReceiver:
    """A threaded HTTP server recording every POST; status and delay are adjustable.

    `port` (default: any free one) lets a test bring a receiver back where a stopped one was,
    so the subscriber URL stays the same across "down" and "recovered".
    """

    def __init__(self, port: int = 0) -> None:
        self._server = _Server(port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def received(self) -> list[Received]:
        return self._server.received

    def respond(self, status: int = 200, delay: float = 0.0) -> None:
        self._server.status, self._server.delay = status, delay

    def take(self) -> list[Received]:
        """The requests received since the last take (and forget them)."""
        with self._server.lock:
            taken = list(self._server.received)
            self._server.received.clear()
        return taken

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class _SmtpHandler:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    refuse: bool = False

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1 at a free port; `refuse` makes it answer 550 to recipients."""

    def __init__(self) -> None:
        self.handler = _SmtpHandler()
        self.port = free_port()
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def messages(self) -> list[Message]:
        return self.handler.messages

    def close(self) -> None:
        self._controller.stop()
