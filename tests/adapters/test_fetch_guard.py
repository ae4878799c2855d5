"""The fetch guards against a real server on 127.0.0.1: one deadline for the whole exchange
(headers included), and private, loopback and link-local targets refused before connecting.

Refused addresses are never contacted: the session's audit hook (tests/adapters/conftest.py)
stops and reports any connection or name lookup beyond loopback, so a refusal that came after a
connection attempt fails the test.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters import FetchContext, fetch_many, get_adapter
from adapters.net.context import shared_ssl_context
from adapters.net.guard import AddressRefusedError, NetworkPolicy, non_public_kind
from core.model import FetchResult, SourceSpec, SourceState
from tests.adapters.adapterkit import LOOPBACK, rss_spec
from tests.adapters.feedserver import FeedServer


def fetch(spec: SourceSpec, allow: tuple[str, ...] = LOOPBACK) -> FetchResult:
    (result,) = fetch_many([spec], {}, allow_networks=allow)
    return result


def assert_refused(result: FetchResult, *, says: str) -> None:
    assert result.status == "error" and result.transient is False, result
    assert result.error is not None and "refused to connect to" in result.error, result.error
    assert says in result.error, result.error
    assert "WATCHFLOOR_FETCH_ALLOW_NETWORKS" in result.error  # what to do about it
    assert result.articles == ()


# --- one deadline for the whole exchange ------------------------------------------------------


def test_trickled_headers_end_at_the_total_deadline(server: FeedServer) -> None:
    # A header line every 0.2 s: every read beats the 5 s read timeout, so only the 1 s total
    # deadline can end it (pytest-timeout catches a hang).
    spec = rss_spec(
        "s", server.url("/trickleheaders/200"), read_timeout_s=5.0, total_timeout_s=1.0, retries=0
    )
    result = fetch(spec)
    assert result.status == "error" and result.transient is True and result.http_status is None
    assert result.error is not None
    assert result.error.startswith("timed out (total 1 s) fetching http://127.0.0.1:")
    assert "/trickleheaders/200" in result.error and "headers" in result.error


def test_the_deadline_covers_retries_too(server: FeedServer) -> None:
    # Retries may not restart the clock: once the deadline has passed there is no new attempt.
    spec = rss_spec(
        "s",
        server.url("/trickleheaders/200"),
        read_timeout_s=5.0,
        total_timeout_s=1.0,
        retries=3,
        backoff_s=0.01,
    )
    result = fetch(spec)
    assert result.status == "error" and result.error is not None
    assert result.error.startswith("timed out (total 1 s)")
    assert server.hits["/trickleheaders/200"] == 1


def test_a_fast_fetch_is_untouched_by_the_deadline(server: FeedServer) -> None:
    result = fetch(rss_spec("s", server.url("/feed/rss2_korea.xml"), total_timeout_s=5.0))
    assert result.status == "ok" and len(result.articles) == 4


def test_a_tls_handshake_that_never_ends_stops_at_the_deadline() -> None:
    # A listener that never accepts: the kernel completes TCP, nobody answers the ClientHello.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"https://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
        spec = rss_spec("s", url, connect_timeout_s=5.0, total_timeout_s=1.0, retries=0)
        result = fetch(spec)
    assert result.status == "error" and result.transient is True
    assert (result.error or "").startswith("timed out (total 1 s) fetching https://127.0.0.1:")


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FeedServer]:
    """The feed server behind TLS with a certificate for 127.0.0.1 that fetches trust."""
    cert, key = _self_signed_for_loopback(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read when the fetch builds its TLS context
    server = FeedServer()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.start()
    yield server
    server.close()


def test_https_goes_through_the_guarded_connection(tls_server: FeedServer) -> None:
    url = f"https://127.0.0.1:{tls_server.server_address[1]}/feed/rss2_korea.xml"
    result = fetch(rss_spec("s", url))
    assert result.status == "ok" and len(result.articles) == 4, result.error
    assert_refused(fetch(rss_spec("s", url), allow=()), says="a loopback address")


def _self_signed_for_loopback(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


# --- private targets refused ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://169.254.169.254/latest/meta-data/", "the cloud metadata address"),
        ("http://10.1.2.3/feed.xml", "a private address"),
        ("http://172.16.5.4/feed.xml", "a private address"),
        ("http://192.168.0.1/feed.xml", "a private address"),
        ("http://127.0.0.2:{port}/feed/rss2_korea.xml", "a loopback address"),
        ("http://[::1]:{port}/feed/rss2_korea.xml", "a loopback address"),
        ("http://0.0.0.0:{port}/feed/rss2_korea.xml", "an unspecified address"),
        ("http://169.254.1.1/feed.xml", "a link-local address"),
        ("http://[fe80::1]/feed.xml", "a link-local address"),
        ("http://[fc00::1]/feed.xml", "a private address"),
        ("http://[::ffff:10.0.0.1]/feed.xml", "a private address"),
        ("http://100.64.0.1/feed.xml", "a reserved, non-public address"),
        ("http://224.0.0.1/feed.xml", "a multicast address"),
    ],
)
def test_literal_non_public_addresses_are_refused(server: FeedServer, url: str, says: str) -> None:
    port = server.server_address[1]
    result = fetch(rss_spec("s", url.format(port=port)))  # only 127.0.0.1 is allowed
    assert_refused(result, says=says)
    assert server.requests == []


def test_loopback_is_refused_unless_allowed(server: FeedServer) -> None:
    spec = rss_spec("s", server.url("/feed/rss2_korea.xml"))
    assert_refused(fetch(spec, allow=()), says="127.0.0.1: a loopback address")
    assert server.requests == []
    assert fetch(spec, allow=("127.0.0.0/8",)).status == "ok"


def test_a_host_name_is_checked_on_the_address_it_resolves_to(server: FeedServer) -> None:
    port = server.server_address[1]
    spec = rss_spec("s", f"http://localhost:{port}/feed/rss2_korea.xml")
    assert_refused(fetch(spec, allow=()), says="localhost (")
    assert server.requests == []
    # Allowing the name allows whatever it resolves to.
    assert fetch(spec, allow=("localhost",)).status == "ok"


def test_a_redirect_to_a_refused_address_is_not_followed(server: FeedServer) -> None:
    target = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    result = fetch(rss_spec("s", server.url(f"/to?url={quote(target, safe='')}")))
    assert_refused(result, says="169.254.169.254: the cloud metadata address")
    assert "latest/meta-data" in (result.error or "")  # the URL that was refused
    assert [status for _, status in server.statuses] == [302]


def test_a_redirect_to_another_loopback_address_is_refused(server: FeedServer) -> None:
    port = server.server_address[1]
    target = f"http://127.0.0.2:{port}/feed/rss2_korea.xml"
    result = fetch(rss_spec("s", server.url(f"/to?url={quote(target, safe='')}")))
    assert_refused(result, says="127.0.0.2: a loopback address")
    assert len(server.requests) == 1  # the redirect; the target was never asked


def test_an_adapter_without_a_context_refuses_private_addresses(server: FeedServer) -> None:
    result = get_adapter("rss").fetch(
        rss_spec("s", server.url("/feed/rss2_korea.xml")), SourceState()
    )
    assert_refused(result, says="a loopback address")


def test_refused_source_does_not_disturb_the_others(server: FeedServer) -> None:
    specs = [
        rss_spec("metadata", "http://169.254.169.254/latest/meta-data/"),
        rss_spec("good", server.url("/feed/atom_japan.xml")),
    ]
    refused, good = fetch_many(specs, {}, allow_networks=LOOPBACK)
    assert_refused(refused, says="cloud metadata")
    assert good.status == "ok" and len(good.articles) == 3


# --- the policy itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.0.0.1", "a private address"),
        ("172.31.255.255", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.169.254", "the cloud metadata address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("::ffff:192.168.1.1", "a private address"),
        ("::ffff:8.8.8.8", None),
        ("240.0.0.1", "a private address"),
    ],
)
def test_non_public_kinds(address: str, kind: str | None) -> None:
    assert non_public_kind(ipaddress.ip_address(address)) == kind


def test_policy_entries() -> None:
    policy = NetworkPolicy.from_entries([" 10.20.0.0/16", "192.168.1.5", "Intranet.Example.", ""])
    policy.check("feeds", ipaddress.ip_address("10.20.3.4"))
    policy.check("feeds", ipaddress.ip_address("::ffff:10.20.3.4"))
    policy.check("feeds", ipaddress.ip_address("192.168.1.5"))
    policy.check("intranet.example", ipaddress.ip_address("10.99.0.1"))
    policy.check("anything", ipaddress.ip_address("93.184.216.34"))  # public: always allowed
    with pytest.raises(
        AddressRefusedError, match=r"refused to connect to feeds \(10\.21\.0\.1\): a private"
    ):
        policy.check("feeds", ipaddress.ip_address("10.21.0.1"))


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "not a host!", "http://10.0.0.1/"])
def test_policy_rejects_bad_entries(entry: str) -> None:
    with pytest.raises(ValueError, match="is not a network"):
        NetworkPolicy.from_entries([entry])


def test_context_rejects_bad_entries() -> None:
    with pytest.raises(ValueError, match=r"'10\.0\.0\.0/40' is not a network"):
        FetchContext(allow_networks=["10.0.0.0/40"])


def test_fetch_clients_share_a_tls_context_per_ca_location(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    default = shared_ssl_context()
    assert shared_ssl_context() is default
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    assert shared_ssl_context() is not default  # a CA location set later still takes effect
