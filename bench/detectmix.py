"""Detection alone (detect.detect, every rule) on two mixes of the same generated articles.

A realistic mix (the generator's default: 15% of the articles report an event, the rest are
neutral news with a few distracting words) and a worst case where every article reports one
or two events. Both in one fresh process, the rules compiled once before either is timed, and
one article detected first so that no lazy set-up lands in the figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.generator import ArticleGenerator, event_sentences
from bench.micro import detection_rate

MIXES = {"realistic_15pct_events": 0.15, "all_events": 1.0}


def run(args: dict[str, Any]) -> dict[str, Any]:
    """Articles per second (wall and CPU) of detection alone on each mix of `args["count"]`."""
    from flows.context.config import load_ruleset

    ruleset = load_ruleset(Path(args["rules_dir"]))
    events = event_sentences(args["rules_dir"])
    found: dict[str, Any] = {"articles": args["count"]}
    for name, share in MIXES.items():
        generator = ArticleGenerator(events, seed=args["seed"], event_share=share)
        articles = list(generator.articles(0, args["count"]))
        detection_rate(ruleset, articles[:1])  # warm-up
        found[name] = {
            "event_share": share,
            "event_articles": sum(1 for a in articles if a.events),
            **detection_rate(ruleset, articles),
        }
    return found


def print_figure(mix: dict[str, Any]) -> None:
    """One line per mix."""
    print(f"(h) detection alone (detect.detect, all rules) on {mix['articles']:,} articles")
    for name in MIXES:
        m = mix[name]
        print(
            f"    {name.replace('_', ' ')}: {m['per_s']:,.0f} articles/s "
            f"({m['per_cpu_s']:,.0f} per CPU-s; {m['event_articles']:,} event articles, "
            f"{m['matches']:,} matches)"
        )
