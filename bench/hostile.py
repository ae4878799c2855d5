"""Detection time on hostile and broken articles (issue 9), next to ordinary prose of the same
size measured in the same run: a punctuation run ("...."), spaced ellipses, one sentence with no
full stop, Japanese, "a. a." repeated and control characters, at 100 KB and 1 MB.

Detection reads at most the title and the first `MAX_BODY_CHARS` of the body, so 1 MB costs
what 100 KB costs; what matters is that no kind costs much more than prose. Before issue 9,
100 KB of "...." took over 180 s. `python -m bench.hostile` prints this figure alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import detect
from core.model import DetectionInput

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100_000, 1_000_000)
QUICK_SIZES = (10_000, 30_000)
_REFERENCE = datetime(2026, 1, 28, 9, tzinfo=UTC)
_PROSE = (
    "North Korea fired a ballistic missile into the East Sea on Tuesday, the Joint Chiefs of "
    "Staff said. Japan and South Korea condemned the launch and called for talks at the United "
    "Nations. Officials in Tokyo said the missile flew about 350 km before it fell outside the "
    "exclusive economic zone. "
)


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


# Name -> text of a given size. "prose" is the baseline every other kind is set against.
KINDS: dict[str, Callable[[int], str]] = {
    "prose (baseline)": _repeat(_PROSE),
    'punctuation run "...."': _repeat("."),
    'spaced ellipses ". . ."': _repeat("He paused . . . and then . . . "),
    "one sentence, no full stop": _repeat("north korea fired missiles and japan said that "),
    "Japanese": _repeat("北朝鮮は弾道ミサイルを発射したと防衛省が発表し、日本政府は抗議した"),
    '"a. a." repeated': _repeat("a. "),
    "control characters": _repeat("\x1b[31mNorth\x00 Korea\u200b fired\u202e a missile\ue000 "),
}


def _rules() -> detect.RuleSet:
    rules: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for path in sorted((ROOT / "rules").rglob("*.yaml")):
        target = aliases if path.name.startswith("entities") else rules
        target[str(path)] = path.read_text(encoding="utf-8")
    return detect.load_ruleset(rules, aliases)


def measure(quick: bool = False) -> dict[str, Any]:
    """Seconds to detect one article of each kind and size (one run each: the point is the
    order of magnitude next to the baseline, not the third digit)."""
    ruleset = _rules()
    sizes = QUICK_SIZES if quick else SIZES
    seconds: dict[str, dict[str, float]] = {}
    for name, make in KINDS.items():
        for size in sizes:
            item = DetectionInput("bench", "North Korea fires missile", make(size), _REFERENCE)
            started = time.perf_counter()
            detect.detect(ruleset, item)
            seconds.setdefault(name, {})[str(size)] = round(time.perf_counter() - started, 3)
    return {"sizes": list(sizes), "seconds": seconds}


def print_figure(result: dict[str, Any]) -> None:
    """The table: seconds per kind and size, and the ratio to prose of the same size."""
    sizes = [str(s) for s in result["sizes"]]
    seconds = result["seconds"]
    baseline = seconds["prose (baseline)"]
    print("(g) detection of one hostile article, seconds (x prose of the same size, same run)")
    header = "".join(f"{_size_label(int(s)):>20}" for s in sizes)
    print(f"      {'kind':<30}{header}")
    for name, row in seconds.items():
        cells = "".join(
            f"{row[s]:>10.2f} s {row[s] / max(baseline[s], 1e-6):>5.1f}x" for s in sizes
        )
        print(f"      {name:<30}{cells}")


def _size_label(size: int) -> str:
    return f"{size // 1_000_000} MB" if size >= 1_000_000 else f"{size // 1_000} KB"


if __name__ == "__main__":
    print_figure(measure())
