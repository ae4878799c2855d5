"""A Prefect API that PREFECT_API_URL names must answer before a command runs a flow on it.

Without this check a wrong or stopped server surfaced deep in Prefect's flow engine as a
136-line traceback ending in "RuntimeError: Failed to reach API". A one-off `run` has polled
and stored by then, so nothing is lost: the articles wait in the store for the next run that
reaches an API. The check asks Prefect's own client (`api_healthcheck`, GET /health), so the
server's TLS, authentication and timeout settings apply exactly as they do to the flow.
"""

from __future__ import annotations

import httpx

from core.errors import WatchfloorError


class ApiUnreachableError(WatchfloorError):
    """The Prefect API named by PREFECT_API_URL did not answer its health check."""


def require_reachable_api(url: str) -> None:
    """Raise ApiUnreachableError, saying what to do, unless Prefect's API at `url` answers."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
    if failure is not None:
        raise ApiUnreachableError(unreachable_message(url, failure))


def unreachable_message(url: str, failure: BaseException) -> str:
    """One line: which API, why, and the two ways out."""
    reason = " ".join(str(failure).split()) or type(failure).__name__  # one line, always
    return (
        f"Prefect's API at {without_credentials(url)} (PREFECT_API_URL) did not answer: "
        f"{reason}. Start that server, or unset PREFECT_API_URL to run on a temporary local API."
    )


def without_credentials(url: str) -> str:
    """`url` without a user or password it may carry, fit for a message (httpx parses it as
    the client does; a URL it cannot parse is not shown at all)."""
    try:
        return str(httpx.URL(url).copy_with(userinfo=b""))
    except httpx.InvalidURL:
        return "(a URL that does not parse)"
