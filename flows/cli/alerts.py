"""`watchfloor alerts ...`: test subscribers, list alerts and their deliveries, retry failures.

Subscribers come from `--apprise-config FILE` / `--notify URL` or, without them, from the
settings (WATCHFLOOR_APPRISE_CONFIG, WATCHFLOOR_NOTIFY_URLS), exactly as a run reads them.
Only Apprise's privacy form of a subscriber is ever printed.

`retry` puts every failed delivery back to pending with a fresh set of attempts and sends them
at once to the configured subscribers (with everything else already due for those
subscribers), printing what happened; with `--requeue-only`, or when no subscriber is
configured where it runs, it only requeues and the next run sends them. Nothing is routed by
`retry`, and deliveries of subscribers it was not given are left for the next run.

The store, Apprise and the rules are imported by the commands, not here: `watchfloor --help`
loads this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from core.errors import ConfigError
from core.model import DeliveryOutcome, Target
from flows.cli.common import (
    AppriseOption,
    DbOption,
    JsonOption,
    NotifyOption,
    fail_cleanly,
    print_json,
    stdout_reserved_for_json,
    use_notify_urls,
)

if TYPE_CHECKING:
    import db
    from flows.context.settings import Settings
    from notify import Subscribers

app = typer.Typer(
    help="Test subscribers, list alerts and retry failed deliveries.", no_args_is_help=True
)

NO_SUBSCRIBERS = (
    "no subscribers configured: give --apprise-config FILE or --notify URL "
    "(or set WATCHFLOOR_APPRISE_CONFIG / WATCHFLOOR_NOTIFY_URLS)"
)
TagOption = Annotated[
    str | None, typer.Option("--tag", help="Only subscribers carrying this Apprise tag.")
]


def _now() -> datetime:
    return datetime.now(UTC)


def configured_subscribers(settings: Settings) -> Subscribers:
    """The subscribers of the settings (config file and URLs), validated as a run validates
    them (tags only for categories and regions the rules can produce); may be empty."""
    import notify
    from flows.context.config import load_ruleset, routing_vocabulary, with_templates

    config = str(settings.apprise_config) if settings.apprise_config else None
    categories, regions = routing_vocabulary(load_ruleset(settings.rules_dir, settings.cache_dir))
    if settings.templates_dir is not None:
        notify.check_templates(str(settings.templates_dir))
    subscribers = notify.load_targets(
        config, settings.notify_urls, categories=categories, regions=regions
    )
    return with_templates(subscribers, settings.templates_dir)


def _settings(apprise_config: Any, notify_urls: list[str] | None, database: str | None) -> Settings:
    # --notify URLs travel through the environment, as for runs (use_notify_urls).
    from flows.context.settings import load_settings

    use_notify_urls(notify_urls)
    return load_settings(apprise_config=apprise_config, database_url=database)


# --- test --------------------------------------------------------------------------------


@app.command("test")
@fail_cleanly
def test_command(
    tag: TagOption = None,
    apprise_config: AppriseOption = None,
    notify_urls: NotifyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a test message to each (matching) subscriber; exit 1 if any failed."""
    import notify

    subscribers = configured_subscribers(_settings(apprise_config, notify_urls, None))
    if not subscribers:
        raise ConfigError("subscribers", NO_SUBSCRIBERS)
    chosen = notify.with_tag(subscribers.targets, tag)
    if not chosen:
        typer.echo(f"no subscriber is tagged {tag!r} ({len(subscribers)} configured)", err=True)
        raise typer.Exit(1)
    with stdout_reserved_for_json(as_json):  # the terminal subscriber prints its test
        results = [(target, subscribers.send_test(target)) for target in chosen]
    if as_json:
        print_json([_test_json(target, outcome) for target, outcome in results])
    else:
        for target, outcome in results:
            typer.echo(_test_line(target, outcome))
    failed = sum(not outcome.ok for _, outcome in results)
    if not as_json:
        typer.echo(f"{len(results) - failed} of {len(results)} subscribers reached")
    if failed:
        raise typer.Exit(1)


def _test_line(target: Target, outcome: DeliveryOutcome) -> str:
    if outcome.ok:
        return f"ok      {target.display}"
    return f"FAILED  {target.display}: {outcome.error}"


def _test_json(target: Target, outcome: DeliveryOutcome) -> dict[str, Any]:
    return {
        "target": target.display,
        "tags": sorted(target.tags),
        "ok": outcome.ok,
        "error": outcome.error,
    }


# --- list --------------------------------------------------------------------------------


def alert_state(view: db.AlertView) -> str:
    """One word for an alert: unrouted, queued (not routed yet), failed, pending, withdrawn
    (its development was dismissed before it was sent to everyone: see `feedback`) or sent."""
    states = {d.state for d in view.deliveries}
    if view.unrouted:
        return "unrouted"
    if view.routed_at is None:
        return "queued"
    if "failed" in states:
        return "failed"
    if states & {"pending", "sending"}:
        return "pending"
    if "withdrawn" in states or not states:
        # Routed with no delivery and not unrouted: dismissed before it was ever routed.
        return "withdrawn"
    return "sent"


def alert_json(view: db.AlertView) -> dict[str, Any]:
    """One alert of `alerts list --json`."""
    from flows.stages.report import jsonable

    return jsonable(
        {
            "id": view.id,
            "development_id": view.development_id,
            "kind": view.kind,
            "category": view.category,
            "status": view.status,
            "previous_status": view.previous_status,
            "level": view.level,
            "title": view.title,
            "created_at": view.created_at,
            "routed_at": view.routed_at,
            "state": alert_state(view),
            "unrouted": view.unrouted,
            "deliveries": [
                {
                    "target": d.target_display,
                    "target_key": d.target_key,
                    "state": d.state,
                    "attempts": d.attempts,
                    "last_error": d.last_error,
                    "next_attempt_at": d.next_attempt_at if d.state == "pending" else None,
                    "sent_at": d.sent_at,
                }
                for d in view.deliveries
            ],
        }
    )


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def alert_lines(view: db.AlertView) -> list[str]:
    """An alert as a few plain lines: its headline, then one line per delivery."""
    status = view.status
    if view.kind == "status_change" and view.previous_status:
        status = f"{view.previous_status} -> {view.status}"
    lines = [
        f"#{view.id} {alert_state(view).upper()}  {view.kind} {view.category} {status} "
        f"[{view.level}]  development {view.development_id}  created {_when(view.created_at)}",
        f"    {view.title}",
    ]
    if view.unrouted:
        lines.append("    unrouted: matched no subscriber")
    elif view.routed_at is None:
        lines.append("    not routed yet: the next run routes it")
    for d in view.deliveries:
        line = f"    {d.state:<8} {d.target_display}  attempts {d.attempts}"
        if d.state == "sent":
            line += f"  sent {_when(d.sent_at)}"
        elif d.state == "pending":
            line += f"  next {_when(d.next_attempt_at)}"
        if d.last_error and d.state != "sent":
            line += f"  last error: {d.last_error}"
        lines.append(line)
    return lines


def _state_filter(pending: bool, failed: bool, unrouted: bool) -> str | None:
    chosen = [
        name
        for name, on in (("pending", pending), ("failed", failed), ("unrouted", unrouted))
        if on
    ]
    if len(chosen) > 1:
        raise typer.BadParameter("use at most one of --pending, --failed, --unrouted")
    return chosen[0] if chosen else None


@app.command("list")
@fail_cleanly
def list_command(
    pending: Annotated[
        bool, typer.Option("--pending", help="Only alerts with deliveries still to send.")
    ] = False,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only alerts with a delivery that gave up.")
    ] = False,
    unrouted: Annotated[
        bool, typer.Option("--unrouted", help="Only alerts that matched no subscriber.")
    ] = False,
    database: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List alerts (oldest first) with each subscriber's delivery state, attempts and error."""
    import db
    from flows.context.runtime import read_transaction
    from flows.context.settings import load_settings

    state = _state_filter(pending, failed, unrouted)
    url = load_settings(database_url=database).database_url
    with read_transaction(url) as session:
        views = db.list_alerts(session, state)
    if as_json:
        print_json([alert_json(view) for view in views])
        return
    for view in views:
        typer.echo("\n".join(alert_lines(view)))
    typer.echo(_list_footer(views, state))


def _list_footer(views: Sequence[db.AlertView], state: str | None) -> str:
    counts: dict[str, int] = {}
    for view in views:
        counts[alert_state(view)] = counts.get(alert_state(view), 0) + 1
    detail = ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
    scope = f" {state}" if state else ""
    return f"{len(views)}{scope} alerts" + (f": {detail}" if detail else "")


# --- retry -------------------------------------------------------------------------------


@app.command("retry")
@fail_cleanly
def retry_command(
    database: DbOption = None,
    apprise_config: AppriseOption = None,
    notify_urls: NotifyOption = None,
    requeue_only: Annotated[
        bool, typer.Option("--requeue-only", help="Only requeue: the next run sends them.")
    ] = False,
) -> None:
    """Requeue failed deliveries (fresh attempts), then send them now; exit 1 if any fail."""
    from flows.stages.delivery import retry_failed_deliveries
    from notify import Subscribers

    settings = _settings(apprise_config, notify_urls, database)
    subscribers = Subscribers() if requeue_only else configured_subscribers(settings)
    requeued, outcome = retry_failed_deliveries(
        settings.database_url, subscribers, settings.delivery_max_attempts, _now()
    )
    typer.echo(f"requeued {requeued} failed deliveries")
    if outcome is None:
        why = "--requeue-only" if requeue_only else "no subscribers configured here"
        typer.echo(f"not sent now ({why}): the next run sends them")
        return
    typer.echo(
        f"sent {outcome.delivered}, failed {outcome.failed} (pending again, or failed for good "
        f"after {settings.delivery_max_attempts} attempts), held {outcome.held}"
    )
    if outcome.failed:
        raise typer.Exit(1)
