"""`fetch_url` sends its requests to httpcore's pool itself, without httpx's models: on the wire
and in what it makes of an answer, it must do what httpx's client does. A raw socket server on
127.0.0.1 records the exact bytes of each request and answers with exact bytes; the same
exchange through a plain `httpx.Client` is the reference."""

from __future__ import annotations

import gzip
import socket
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpcore
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.freshness import header_freshness_s
from adapters.net.context import ACCEPT, USER_AGENT, FetchContext
from adapters.net.fetch import HttpOptions, HttpOutcome, fetch_url
from core.errors import FetchError, PermanentFetchError, TransientFetchError
from tests.adapters.adapterkit import LOOPBACK

FEED = b"<rss><channel><title>t</title></channel></rss>"


class RawServer:
    """Answers every request, one per connection, with `self.answer` (bytes, sent as they are)
    and records each request's head (request line and headers) as sent."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.answer = b""
        self.heads: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True, name="rawserver").start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed at teardown
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    head += chunk
                self.heads.append(head.partition(b"\r\n\r\n")[0])
                conn.sendall(self.answer)


@pytest.fixture
def raw() -> Iterator[RawServer]:
    server = RawServer()
    try:
        yield server
    finally:
        server.sock.close()


@pytest.fixture
def context() -> Iterator[FetchContext]:
    with FetchContext(concurrency=1, per_host=1, allow_networks=LOOPBACK) as context:
        yield context


def answer(status: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    """A whole HTTP/1.1 response that closes its connection."""
    lines = [b"HTTP/1.1 " + status, *headers, b"Content-Length: %d" % len(body)]
    return b"\r\n".join([*lines, b"Connection: close", b"", b""]) + body


def fetch_once(
    context: FetchContext,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> HttpOutcome:
    """One attempt (no retries) through a fetch context's client."""
    with context.client() as client:
        return fetch_url(
            client,
            context.limiter,
            url,
            source="s",
            headers=headers,
            etag=etag,
            last_modified=last_modified,
            options=HttpOptions(retries=0),
        )


def through_httpx(url: str, headers: dict[str, str]) -> httpx.Response:
    """The same GET through httpx's own client, built with the fetch clients' headers."""
    with httpx.Client(headers={"User-Agent": USER_AGENT, "Accept": ACCEPT}) as client:
        response = client.get(url, headers=headers)
        response.read()
        return response


def fetch_error(
    context: FetchContext, url: str, headers: dict[str, str] | None = None
) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch_once(context, url, headers=headers)
    return caught.value


# --- what goes on the wire -------------------------------------------------------------------


def test_request_head_is_byte_for_byte_httpx_s(raw: RawServer, context: FetchContext) -> None:
    raw.answer = answer(b"304 Not Modified")
    url = raw.base + "/feed/caf%C3%A9.xml?a=1&b=%20"
    # A source header replaces the client's of the same name, whatever its case.
    source_headers = {"accept": "application/atom+xml", "X-Api-Key": "k-1"}
    etag, last_modified = '"v1"', "Wed, 28 Jan 2026 01:00:00 GMT"
    fetch_once(context, url, headers=source_headers, etag=etag, last_modified=last_modified)
    through_httpx(
        url, {**source_headers, "If-None-Match": etag, "If-Modified-Since": last_modified}
    )
    ours, reference = raw.heads
    assert ours == reference
    assert ours.startswith(b"GET /feed/caf%C3%A9.xml?a=1&b=%20 HTTP/1.1\r\nHost: 127.0.0.1:")


def test_a_url_fetched_again_sends_the_same_head(raw: RawServer, context: FetchContext) -> None:
    # The second fetch takes the URL's parsed form from what the first kept.
    raw.answer = answer(b"304 Not Modified")
    url = raw.base + "/feed/again%20%C3%A9.xml?x=%2F"
    fetch_once(context, url, etag='"v1"')
    fetch_once(context, url, etag='"v1"')
    first, second = raw.heads
    assert first == second
    assert first.startswith(b"GET /feed/again%20%C3%A9.xml?x=%2F HTTP/1.1\r\nHost: 127.0.0.1:")


def test_a_url_httpx_refuses_is_refused_at_every_fetch(context: FetchContext) -> None:
    url = "http://127.0.0.1:9/fe\x00ed"
    for _ in range(2):  # nothing kept of a URL that could not be read
        error = fetch_error(context, url)
        assert isinstance(error, PermanentFetchError)
        assert error.reason.startswith("cannot request ")
        assert type(error.__cause__) is httpx.InvalidURL


def test_a_host_header_of_the_source_is_sent_instead_of_the_url_s(
    raw: RawServer, context: FetchContext
) -> None:
    raw.answer = answer(b"304 Not Modified")
    fetch_once(context, raw.base + "/feed", headers={"host": "feeds.example"})
    through_httpx(raw.base + "/feed", {"host": "feeds.example"})
    ours, reference = raw.heads
    assert ours == reference and b"\r\nhost: feeds.example" in ours


def test_cookies_are_kept_from_any_answer_and_sent_as_httpx_sends_them(
    raw: RawServer, context: FetchContext
) -> None:
    raw.answer = answer(b"304 Not Modified", b"Set-Cookie: wf=1; Path=/", b"Set-Cookie: b=2")
    fetch_once(context, raw.base + "/feed")
    fetch_once(context, raw.base + "/feed", headers={"X-Api-Key": "k"})
    with httpx.Client(headers={"User-Agent": USER_AGENT, "Accept": ACCEPT}) as client:
        client.get(raw.base + "/feed")
        client.get(raw.base + "/feed", headers={"X-Api-Key": "k"})
    assert raw.heads[:2] == raw.heads[2:]
    assert b"\r\nCookie: wf=1; b=2" in raw.heads[1]


@pytest.mark.parametrize(
    "value", ["café".encode(), "café".encode("latin-1")], ids=["utf-8", "latin-1"]
)
def test_a_cookie_beyond_ascii_is_sent_as_utf8_where_httpx_raises(
    raw: RawServer, context: FetchContext, value: bytes
) -> None:
    raw.answer = answer(b"304 Not Modified", b"Set-Cookie: wf=" + value)
    fetch_once(context, raw.base + "/feed")
    assert fetch_once(context, raw.base + "/feed").not_modified
    assert raw.heads[1].endswith("\r\nCookie: wf=café".encode())
    with httpx.Client() as client:  # httpx's own client fails on every later request
        client.get(raw.base + "/feed")
        with pytest.raises(UnicodeEncodeError):
            client.get(raw.base + "/feed")


# --- what is read from the answer ------------------------------------------------------------


@pytest.mark.parametrize(
    "etag",
    [b'"plain"', '"café"'.encode(), '"café"'.encode("latin-1")],
    ids=["ascii", "utf-8", "latin-1"],
)
def test_headers_are_read_as_httpx_reads_them(
    raw: RawServer, context: FetchContext, etag: bytes
) -> None:
    raw.answer = answer(
        b"304 Not Modified",
        b"ETag: " + etag,
        b"Cache-Control: public",
        b"Cache-Control: max-age=600",
        b"Last-Modified: Wed, 28 Jan 2026 01:00:00 GMT",
    )
    ours = fetch_once(context, raw.base + "/feed")
    reference = through_httpx(raw.base + "/feed", {}).headers
    assert ours.not_modified and ours.body == b""
    assert ours.etag == reference["etag"]
    assert ours.last_modified == reference["last-modified"]
    assert ours.fresh_for_s == header_freshness_s(reference, datetime.now(UTC)) == 600.0


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [(b"gzip", gzip.compress), (b"deflate", zlib.compress), (b"identity", bytes)],
)
def test_a_2xx_body_is_decoded(
    raw: RawServer, context: FetchContext, encoding: bytes, encode: Callable[[bytes], bytes]
) -> None:
    raw.answer = answer(
        b"200 OK",
        b"Content-Type: application/rss+xml",
        b"Content-Encoding: " + encoding,
        body=encode(FEED),
    )
    outcome = fetch_once(context, raw.base + "/feed")
    assert (outcome.status, outcome.body, outcome.content_type) == (
        200,
        FEED,
        "application/rss+xml",
    )


def test_a_body_that_does_not_decode_is_a_permanent_error(
    raw: RawServer, context: FetchContext
) -> None:
    raw.answer = answer(b"200 OK", b"Content-Encoding: gzip", body=b"not gzip at all")
    error = fetch_error(context, raw.base + "/feed")
    assert isinstance(error, PermanentFetchError)
    assert "cannot decode the response body of" in error.reason


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (b"599 Custom Thing", "HTTP 599 Custom Thing from"),
        (b"599 ", "HTTP 599 from"),
        (b"418 I'm a teapot", "HTTP 418 I'm a teapot from"),
    ],
)
def test_error_statuses_carry_the_reason_phrase_sent(
    raw: RawServer, context: FetchContext, status: bytes, says: str
) -> None:
    raw.answer = answer(status, b"Retry-After: 7", body=b"nope")
    error = fetch_error(context, raw.base + "/feed")
    assert error.reason == f"{says} {raw.base}/feed"
    assert error.http_status == int(status[:3])
    transient = status.startswith(b"5")
    assert isinstance(error, TransientFetchError if transient else PermanentFetchError)
    if transient:
        assert isinstance(error, TransientFetchError) and error.retry_after == 7.0


# --- httpcore's errors, as httpx's transport raised them -------------------------------------


def test_a_malformed_answer_is_a_broken_connection_as_under_httpx(
    raw: RawServer, context: FetchContext
) -> None:
    raw.answer = b"HTTP/1.1 two hundred OK\r\n\r\n"
    error = fetch_error(context, raw.base + "/feed")
    assert isinstance(error, TransientFetchError)
    host = raw.base.removeprefix("http://")
    with pytest.raises(httpx.RemoteProtocolError) as reference:
        through_httpx(raw.base + "/feed", {})
    assert error.reason == f"connection to {host} broken: {reference.value}"
    # The chain httpx's transport makes: our error <- httpx's <- httpcore's.
    assert type(error.__cause__) is httpx.RemoteProtocolError
    assert type(error.__cause__.__cause__) is httpcore.RemoteProtocolError


def test_a_header_that_cannot_be_sent_is_a_permanent_error(
    raw: RawServer, context: FetchContext
) -> None:
    error = fetch_error(context, raw.base + "/feed", headers={"X-Bad": "a\r\nInjected: 1"})
    assert isinstance(error, PermanentFetchError)
    assert error.reason.startswith(f"cannot request {raw.base}/feed: ")
    assert type(error.__cause__) is httpx.LocalProtocolError


# --- any header bytes a server sends ----------------------------------------------------------

# Header names whose values the fetch reads, and a few it only carries; framing headers
# (Content-Length, Transfer-Encoding, Connection, Content-Encoding) are the answer's own.
READ_HEADERS = [
    b"ETag",
    b"Last-Modified",
    b"Content-Type",
    b"Cache-Control",
    b"Expires",
    b"Retry-After",
    b"Set-Cookie",
    b"X-Anything",
]
# What h11 lets a header value hold: any byte but CR, LF and NUL (the others are refused as a
# protocol error, by both clients alike).
header_values = st.binary(max_size=40).map(
    lambda value: value.replace(b"\r", b"").replace(b"\n", b"").replace(b"\0", b"")
)
headers_sent = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(READ_HEADERS), st.from_regex(rb"\A[A-Za-z][A-Za-z0-9-]{0,15}\Z")),
        header_values,
    ),
    max_size=8,
)


def test_any_header_bytes_read_as_httpx_reads_them_or_a_fetch_error() -> None:
    # Every answer a server may send: the fetch returns what httpx's client reads of it, or
    # refuses it with a FetchError, never another exception (which would cost the batch).
    server = RawServer()
    context = FetchContext(concurrency=1, per_host=1, allow_networks=LOOPBACK)
    try:

        @settings(max_examples=120, deadline=None)
        @given(
            status=st.sampled_from([b"200 OK", b"304 Not Modified", b"404 Not Found", b"503 Busy"]),
            headers=headers_sent,
        )
        def check(status: bytes, headers: list[tuple[bytes, bytes]]) -> None:
            lines = [name + b": " + value for name, value in headers]
            server.answer = answer(status, *lines, body=FEED if status == b"200 OK" else b"")
            try:
                ours: HttpOutcome | FetchError = fetch_once(context, server.base + "/feed")
            except FetchError as exc:
                ours = exc
            try:
                reference = through_httpx(server.base + "/feed", {})
            except httpx.HTTPError:  # what httpx refuses, ours refuses as a FetchError
                assert isinstance(ours, FetchError)
                return
            read = reference.headers
            if reference.status_code in (200, 304):
                assert isinstance(ours, HttpOutcome), ours
                assert (ours.etag, ours.last_modified, ours.content_type) == (
                    read.get("etag"),
                    read.get("last-modified"),
                    read.get("content-type"),
                )
            else:
                assert isinstance(ours, FetchError) and ours.http_status == reference.status_code
                transient = reference.status_code == 503
                assert isinstance(ours, TransientFetchError if transient else PermanentFetchError)

        with context:
            check()
    finally:
        server.sock.close()
