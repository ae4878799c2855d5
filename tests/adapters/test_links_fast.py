"""`canonical_url` returns a link that is already canonical as it is, without parsing it
(adapters/text/links.py's fast path): on any link and base it answers as the general path,
`parsed_canonical_url`, returning the same URL or raising the same error."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.text.links import canonical_url, parsed_canonical_url

# Characters that steer URL parsing: delimiters, case, whitespace and controls urlsplit strips
# or removes, brackets, and non-ASCII letters that case-fold to ASCII or normalise to delimiters.
TRICKY = "aZ09.-_~!$&'()*+,=:@%/;?#[] \t\r\n\x00\x1f\\é\u017f\u212a\u0130\ufe55\uff03"
SCHEMES = ["http", "https", "HTTP", "Https", "ftp", "mailto", "", "http:"]

parts = st.text(alphabet=TRICKY, max_size=12)
# Mostly links of the fast path's shape, so that each of its conditions is tried at its edge.
plain_hosts = st.from_regex(r"[a-z0-9.-]{1,6}(:[0-9]{1,3})?", fullmatch=True)
hosts = st.one_of(
    plain_hosts,
    st.sampled_from(["Example.COM", "[::1]", "[::1", "u@h", "u:p@h", ""]),
    st.text(alphabet="abcXY09.-:@[]é\u2100\ufe55", max_size=12),
)
# Short paths, often ending in a delimiter: urljoin drops an empty ";" parameter, for one.
paths = st.one_of(
    st.text(alphabet="/aZ09._~!$&'()*+,=:@%-;?#", max_size=6),
    st.sampled_from(["a?", "a;", "a#", "a?utm_source=x", "a b", "a\tb"]),
    parts,
)
built = st.builds(
    lambda scheme, host, path, pad: f"{pad}{scheme}://{host}/{path}{pad}",
    st.one_of(st.sampled_from(["http", "https"]), st.sampled_from(SCHEMES)),
    hosts,
    paths,
    st.sampled_from(["", " ", "\t", "\n"]),
)
links = st.one_of(built, st.text(alphabet=TRICKY, max_size=30), st.text(max_size=30))
bases = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(
        ["http://127.0.0.1:8080/feed/0.xml", "https://example.com/a/b?x=1", "ftp://x/"]
    ),
    built,
    st.text(alphabet=TRICKY, max_size=30),
)


def outcome(fn: Callable[..., str | None], *args: object) -> object:
    """What `fn` returns, or the type of the error it raises."""
    try:
        return fn(*args)
    except ValueError as exc:
        return type(exc)


def general(link: str | None, base: str | None) -> str | None:
    """canonical_url by the general path alone."""
    if not link or not link.strip():
        return None
    return parsed_canonical_url(link.strip(), base)


@settings(max_examples=500, deadline=None)
@given(links, bases)
def test_the_fast_path_answers_as_the_general_path(link: str, base: str | None) -> None:
    assert outcome(canonical_url, link, base) == outcome(general, link, base)


def test_a_plain_feed_link_is_its_own_canonical_url() -> None:
    link = "http://127.0.0.1:8080/news/bench-0000001-2946347108"
    assert canonical_url(f" {link}\n", "http://127.0.0.1:8080/feed/0.xml") == link
    assert canonical_url("HTTP://Example.com/a?utm_source=x#top") == "http://example.com/a"
