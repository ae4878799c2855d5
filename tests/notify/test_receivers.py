"""The tests' HTTP receiver keeps only whole requests: a sender killed between its headers and
the end of its body (the kill tests do that) delivered nothing."""

from __future__ import annotations

import socket

import httpx

from tests.notify.receivers import HttpReceiver


def _send(port: int, head: bytes, body: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1024)  # the receiver's answer, or its close


def test_a_request_cut_off_before_its_body_ends_is_not_received(http: HttpReceiver) -> None:
    head = b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n"
    _send(http.port, head, b'{"cut": ')
    httpx.post(f"http://127.0.0.1:{http.port}/hook", json={"whole": True})
    assert [r.json() for r in http.take()] == [{"whole": True}]
