"""A folder of the user's message templates, checked before any work starts.

Its `*.j2` files override the shipped templates of the same name (notify/templates: `alert`,
`digest`, `marker` and `test`, each as `.txt.j2`, `.md.j2` and `.html.j2`). A broken template
must fail the command at start, not every send of a run: each file must be one of those names,
parse (a syntax error is reported at its line), and render a sample alert, digest, truncated
alert and test message in its format (an unknown variable is reported at its line too).
"""

from __future__ import annotations

import difflib
import traceback
from datetime import UTC, date, datetime
from pathlib import Path

import jinja2

from core.errors import ConfigError, ConfigValidationError
from core.model import Alert, EvidenceRef
from notify.messages.render import (
    FORMATS,
    Format,
    render,
    render_digest,
    render_test,
    template_name,
)

_NAMES = ("alert", "digest", "marker", "test")
KNOWN = frozenset(template_name(name, fmt) for name in _NAMES for fmt in FORMATS)
# Short enough that the sample alert is cut, so the marker template is rendered too.
_TRUNCATING_LEN = 200


def _sample_alert(alert_id: int, kind: str) -> Alert:
    """An alert with every field filled, the way a template will see real ones."""
    return Alert(
        id=alert_id,
        development_id=alert_id,
        kind="status_change" if kind == "status_change" else "new",
        category="missile_launch",
        status="occurred",
        previous_status="planned" if kind == "status_change" else None,
        title="Sample: North Korea fires two ballistic missiles",
        event_date=date(2026, 1, 27),
        place="Pyongyang",
        actors=("North Korea",),
        facts={"count": 2, "apogee_km": 80, "local_time": "15:50"},
        level="high",
        tags=("missile_launch",),
        rule_id="missile_launch",
        terms=("ballistic missile",),
        evidence=(
            EvidenceRef("Sample outlet", "Sample headline", "https://example.org/1"),
            EvidenceRef("Other outlet", "Other headline", None),
        ),
        created_at=datetime(2026, 1, 27, 7, 0, tzinfo=UTC),
        regions=("korea", "north-korea"),
    )


def _line_in(folder: Path, exc: BaseException) -> tuple[str, int | None] | None:
    """(file, line) of the user's template where `exc` was raised, if it was in one."""
    lineno = getattr(exc, "lineno", None)
    filename = getattr(exc, "filename", None)
    if isinstance(exc, jinja2.TemplateSyntaxError) and filename:
        return filename, lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(frame.filename).resolve().parent == folder:
            return frame.filename, frame.lineno
    return None


def _render_each(fmt: Format, templates: str) -> None:
    """Render every kind of message in `fmt` with the folder's templates."""
    new, changed = _sample_alert(1, "new"), _sample_alert(2, "status_change")
    render(new, fmt, templates=templates)
    render(changed, fmt, _TRUNCATING_LEN, title_in_body=True, templates=templates)
    render_digest([new, changed], fmt, templates=templates)
    render_digest([new, changed], fmt, _TRUNCATING_LEN, title_in_body=True, templates=templates)
    render_test("json://example.org/hook", fmt, title_in_body=True, templates=templates)


def _unknown_names(folder: Path) -> list[ConfigError]:
    errors: list[ConfigError] = []
    for path in sorted(folder.glob("*.j2")):
        if path.name not in KNOWN:
            close = difflib.get_close_matches(path.name, sorted(KNOWN), n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else "expected " + ", ".join(sorted(KNOWN))
            )
            errors.append(ConfigError(str(path), f"not a Watchfloor template name ({hint})"))
    return errors


def check_templates(folder: str) -> None:
    """Raise ConfigError (or ConfigValidationError for several) when the folder or one of its
    templates cannot be used; each error names the file and, when known, the line."""
    where = Path(folder)
    if not where.is_dir():
        raise ConfigError(folder, "templates folder does not exist")
    errors = _unknown_names(where)
    resolved = where.resolve()
    for fmt in FORMATS:
        try:
            _render_each(fmt, folder)
        except Exception as exc:  # any error of a user's template: report it, never send with it
            reason = f"template error: {type(exc).__name__}: {exc}"
            # An error outside the user's files (a digest template without the `more` macro
            # that Watchfloor calls) is the folder's, for that format.
            name, line = _line_in(resolved, exc) or (f"{folder} ({fmt} templates)", None)
            errors.append(ConfigError(name, reason, line=line))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ConfigValidationError(errors)
