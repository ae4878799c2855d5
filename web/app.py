"""The FastAPI application: pages, the JSON API, Atom feeds and /healthz over one store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import db
from core.jsonshape import development_json
from web.actions import WRITES_OFF, add_feedback_routes
from web.auth import COOKIE_NAME, csrf_token, request_allowed, session_value, token_matches
from web.chart import DAYS, daily_chart
from web.feeds import ATOM_TYPE, developments_feed
from web.metrics import add_metrics

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The filters a list page, the API and a feed take, in the order their links spell them.
FILTER_NAMES = (
    "category",
    "status",
    "region",
    "level",
    "date_from",
    "date_to",
    "outlet",
    "text",
    "dismissed",
)
STATUSES = ("planned", "occurred", "cancelled")
LEVELS = ("low", "medium", "high", "critical")
# A monitor cycle older than this many poll intervals makes /healthz unhealthy.
STALE_CYCLES = 3


@dataclass(frozen=True, slots=True)
class WebConfig:
    """What `watchfloor web` hands the app: the store, the token (None: open) and the interval
    at which monitor cycles are expected."""

    database_url: str
    token: str | None
    cycle_interval_s: float


def _environment() -> Environment:
    """Jinja2 with autoescaping on for every .html template: feed text is never markup."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
    )
    env.filters["web_href"] = web_href
    env.filters["public_location"] = public_location
    env.filters["stamp"] = stamp
    return env


def web_href(url: str | None) -> str | None:
    """`url` when it is an http(s) address, else None: a feed's `javascript:` link is no link."""
    if url and urlsplit(url).scheme.lower() in {"http", "https"}:
        return url
    return None


def public_location(location: str) -> str:
    """A source's address without user info, query or fragment, which may carry credentials."""
    parts = urlsplit(location)
    if not parts.scheme:
        return location
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def stamp(moment: datetime | None) -> str:
    """A UTC timestamp to the minute, or an empty string."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def parse_query(params: dict[str, str]) -> db.DevelopmentQuery:
    """The filters of a request; a malformed date or page is a 400 naming the parameter."""
    given = {name: params[name].strip() for name in FILTER_NAMES if params.get(name, "").strip()}
    values: dict[str, Any] = dict(given)
    for name in ("date_from", "date_to"):
        if name in given:
            try:
                values[name] = date.fromisoformat(given[name])
            except ValueError:
                raise HTTPException(400, f"{name}: expected a date as YYYY-MM-DD") from None
    if given.get("dismissed", db.DISMISSED_ALL) not in db.DISMISSED_FILTERS:
        raise HTTPException(400, f"dismissed: expected one of {', '.join(db.DISMISSED_FILTERS)}")
    page = params.get("page", "1")
    if not page.isdigit() or int(page) < 1:
        raise HTTPException(400, "page: expected a positive whole number")
    return db.DevelopmentQuery(**values, page=int(page))


def filter_params(query: db.DevelopmentQuery) -> dict[str, str]:
    """The filters of `query` as query parameters (empty ones left out), page excluded."""
    present = {f.name: getattr(query, f.name) for f in fields(query) if f.name in FILTER_NAMES}
    return {name: str(value) for name, value in present.items() if value not in (None, "")}


def query_string(params: dict[str, str], **extra: str) -> str:
    """`params` and `extra` as a URL query string (leading `?`), or an empty string."""
    merged = {**params, **extra}
    return "?" + urlencode(merged) if merged else ""


def create_app(config: WebConfig) -> FastAPI:
    """The console over `config.database_url`; every request needs `config.token` when set."""
    engine = db.create_engine_for(config.database_url)
    sessions = db.make_sessionmaker(engine)
    env = _environment()
    app = FastAPI(title="Watchfloor", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def require_token(request: Request, call_next: Any) -> Response:
        if request.url.path == "/login" or request_allowed(request, config.token):
            return await call_next(request)
        return JSONResponse(
            {"detail": "a token is required: Authorization: Bearer <token>, or /login?token="},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    _add_login(app, config)
    _add_pages(app, env, sessions, config)
    _add_machine_routes(app, sessions, config)
    add_feedback_routes(app, env, sessions, config.token)
    add_metrics(app, sessions, stale_after_s=STALE_CYCLES * config.cycle_interval_s)
    return app


@contextmanager
def _reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session, session.begin():
        yield session


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _feed_href(query: db.DevelopmentQuery) -> str:
    return "/feeds/developments.atom" + query_string(filter_params(query))


def _add_login(app: FastAPI, config: WebConfig) -> None:
    @app.get("/login")
    def login(token: str = "") -> Response:
        """Set the session cookie when `token` is the configured one (a browser's way in)."""
        if config.token is None:
            return RedirectResponse("/", status_code=303)
        if not token_matches(token, config.token):
            raise HTTPException(401, "wrong token")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE_NAME, session_value(config.token), httponly=True, samesite="strict"
        )
        return response


def _add_pages(
    app: FastAPI, env: Environment, sessions: sessionmaker[Session], config: WebConfig
) -> None:
    def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status_code)

    @app.get("/", response_class=HTMLResponse)
    def developments_page(request: Request) -> HTMLResponse:
        query = parse_query(dict(request.query_params))
        today = datetime.now(UTC).date()
        since = datetime.combine(today - timedelta(days=DAYS - 1), datetime.min.time(), UTC)
        with _reading(sessions) as session:
            page = db.browse_developments(session, query)
            counts = db.daily_counts(session, since)
        params = filter_params(query)
        return render(
            "developments.html",
            page=page,
            chart=daily_chart(counts, today),
            query=query,
            statuses=STATUSES,
            levels=LEVELS,
            dismissed_filters=db.DISMISSED_FILTERS,
            feed_href=_feed_href(query),
            prev_href=query_string(params, page=str(page.page - 1)) if page.page > 1 else None,
            next_href=query_string(params, page=str(page.page + 1)) if page.has_next else None,
        )

    @app.get("/developments/{development_id}", response_class=HTMLResponse)
    def development_page(development_id: int) -> HTMLResponse:
        with _reading(sessions) as session:
            detail = db.development_detail(session, development_id)
        if detail is None:
            raise HTTPException(404, "no such development")
        feed = _feed_href(db.DevelopmentQuery(category=detail.development.category))
        return render(
            "development.html",
            detail=detail,
            feed_href=feed,
            # Feedback forms only with a token (web.actions); their CSRF field is derived from it.
            csrf=csrf_token(config.token) if config.token else None,
            writes_off=WRITES_OFF,
        )

    @app.get("/sources", response_class=HTMLResponse)
    def sources_page() -> HTMLResponse:
        with _reading(sessions) as session:
            health = db.source_health(session)
        return render("sources.html", sources=health, feed_href=_feed_href(db.DevelopmentQuery()))


def _add_machine_routes(app: FastAPI, sessions: sessionmaker[Session], config: WebConfig) -> None:
    @app.get("/api/developments")
    def api_developments(request: Request) -> list[dict[str, Any]]:
        """The list page's filters and page; the fields of `watchfloor developments --json`."""
        query = parse_query(dict(request.query_params))
        with _reading(sessions) as session:
            page = db.browse_developments(session, query)
        return [development_json(view) for view in page.developments]

    @app.get("/feeds/developments.atom")
    def atom_feed(request: Request) -> Response:
        """The newest page of developments matching the filters, as Atom 1.0."""
        query = replace(parse_query(dict(request.query_params)), page=1)
        with _reading(sessions) as session:
            page = db.browse_developments(session, query)
        base = _base_url(request)
        params = filter_params(query)
        title = "Watchfloor developments" + (
            " (" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")" if params else ""
        )
        body = developments_feed(
            page.developments,
            base_url=base,
            self_url=base + "/feeds/developments.atom" + query_string(params),
            title=title,
        )
        return Response(body, media_type=ATOM_TYPE)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        return health_answer(sessions, config.cycle_interval_s, datetime.now(UTC))


def health_answer(
    sessions: sessionmaker[Session], interval_s: float, now: datetime
) -> JSONResponse:
    """200 when the store answers and a monitor cycle ran within three intervals, else 503.

    The error of an unreachable store is not shown: it may name the server or its user.
    """
    try:
        with _reading(sessions) as session:
            pulse = db.store_pulse(session)
    except SQLAlchemyError:
        return JSONResponse({"healthy": False, "store": "unreachable"}, status_code=503)
    limit = timedelta(seconds=STALE_CYCLES * interval_s)
    age = None if pulse.last_cycle_at is None else now - pulse.last_cycle_at
    problems = []
    if age is None:
        problems.append("no monitor cycle recorded (no source was ever fetched)")
    elif age > limit:
        problems.append(f"last monitor cycle is older than {STALE_CYCLES} poll intervals")
    body = {
        "healthy": not problems,
        "store": "reachable",
        "last_cycle_at": pulse.last_cycle_at.isoformat() if pulse.last_cycle_at else None,
        "last_cycle_age_s": round(age.total_seconds(), 1) if age is not None else None,
        "stale_after_s": limit.total_seconds(),
        "failing_sources": pulse.failing_sources,
        "pending_deliveries": pulse.pending_deliveries,
        "problems": problems,
    }
    return JSONResponse(body, status_code=200 if not problems else 503)
