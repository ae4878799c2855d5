"""The console's write actions: an analyst's feedback on a development (false alarm, restore,
merge, split), posted by the forms of the development page.

Writes need the configured token (WATCHFLOOR_WEB_TOKEN): without one every POST answers 403
and the page says how to enable them; with one, the token middleware has already checked the
login cookie or Bearer header, and each form must carry the CSRF token (web.auth.csrf_token),
else 403. A refused action (an unknown development, a merge into itself, ...) is a 400 page
saying why; a done one redirects (303) to the page that shows its result.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

import db
from core.errors import FeedbackError
from web.auth import csrf_matches

# A feedback form is a few fields; anything larger is not one of ours.
MAX_FORM_BYTES = 64 * 1024
MAX_ACTOR_CHARS = 100
WEB_ACTOR = "web"
WRITES_OFF = (
    "feedback actions are off: start `watchfloor web` with WATCHFLOOR_WEB_TOKEN set "
    "(16 characters or more) and log in with /login?token=..."
)

Form = dict[str, list[str]]
Action = Callable[[Session, Form, str, datetime], db.FeedbackRecord]
# (session, development id, actor, now): feedback that takes no form field of its own.
FieldlessAction = Callable[[Session, int, str, datetime], db.FeedbackRecord]


async def read_form(request: Request) -> Form | None:
    """The urlencoded fields of a POST body; None when the body is too large. The body is read
    in chunks and given up past the limit, so a huge upload is never held in memory."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def field(form: Form, name: str) -> str:
    """The first value of a form field, stripped ('' when absent)."""
    return (form.get(name) or [""])[0].strip()


def actor_of(form: Form) -> str:
    """Who acts: the form's `by` field (control characters dropped), else `web`."""
    name = "".join(c for c in field(form, "by") if c.isprintable())[:MAX_ACTOR_CHARS]
    return name.strip() or WEB_ACTOR


def whole_number(value: str, name: str) -> int:
    if not value.isdigit():
        raise FeedbackError(f"{name}: expected a development or evidence id (a whole number)")
    return int(value)


def add_feedback_routes(
    app: FastAPI, env: Environment, sessions: sessionmaker[Session], token: str | None
) -> None:
    """POST /developments/{id}/false-alarm, /restore, /merge (field `into`) and /split
    (fields `evidence`), each with the fields `csrf` and optional `by`."""

    def refused(status: int, message: str, development_id: int) -> HTMLResponse:
        html = env.get_template("refused.html").render(
            message=message, development_id=development_id, feed_href=None
        )
        return HTMLResponse(html, status_code=status)

    def apply(action: Action, form: Form) -> db.FeedbackRecord:
        with sessions() as session, session.begin():
            return action(session, form, actor_of(form), datetime.now(UTC))

    async def run(request: Request, development_id: int, action: Action) -> Response:
        if token is None:
            return refused(403, WRITES_OFF, development_id)
        form = await read_form(request)
        if form is None:
            return refused(413, "the form is too large", development_id)
        if not csrf_matches(field(form, "csrf"), token):
            return refused(403, "missing or wrong CSRF token: reload the page", development_id)
        try:
            # In a worker thread, as FastAPI runs the read-only pages: the store may block.
            record = await run_in_threadpool(apply, action, form)
        except FeedbackError as exc:
            return refused(400, str(exc), development_id)
        shown = record.target_id if record.action == "merge" else development_id
        return RedirectResponse(f"/developments/{shown}", status_code=303)

    def add_fieldless(path: str, act: FieldlessAction) -> None:
        """POST /developments/{id}/<path>: an action that needs nothing but the development."""

        async def post(request: Request, development_id: int) -> Response:
            return await run(
                request,
                development_id,
                lambda s, form, actor, now: act(s, development_id, actor, now),
            )

        route = f"/developments/{{development_id}}/{path}"
        app.post(route, name=f"post_{path.replace('-', '_')}")(post)

    add_fieldless("false-alarm", db.mark_false_alarm)
    add_fieldless("restore", db.restore_development)

    @app.post("/developments/{development_id}/merge")
    async def post_merge(request: Request, development_id: int) -> Response:
        def merge(s: Session, form: Form, actor: str, now: datetime) -> db.FeedbackRecord:
            into = whole_number(field(form, "into"), "into")
            return db.merge_developments(s, development_id, into, actor, now)

        return await run(request, development_id, merge)

    @app.post("/developments/{development_id}/split")
    async def post_split(request: Request, development_id: int) -> Response:
        def split(s: Session, form: Form, actor: str, now: datetime) -> db.FeedbackRecord:
            chosen = [whole_number(v.strip(), "evidence") for v in form.get("evidence", [])]
            return db.split_development(s, development_id, chosen, actor, now)

        return await run(request, development_id, split)
