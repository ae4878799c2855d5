"""What `watchfloor detect --json` prints for the labelled corpus, byte for byte, is what it
printed when `tests/data/corpus/detect.json` was recorded (issue 11: work on detection's speed
must not change a single result).

A change to the rules, the aliases or what detection means changes it on purpose: then look at
the differences (`git diff`, after recording), and record the new output, from the repository:

    .venv/bin/watchfloor detect --json tests/data/corpus/articles.jsonl \
        > tests/data/corpus/detect.json
"""

from __future__ import annotations

import difflib

from tests.clikit import run_in_host
from tests.detect.test_corpus_eval import CORPUS

RECORDED = CORPUS / "detect.json"


def test_the_corpus_reads_exactly_as_recorded() -> None:
    result = run_in_host("detect", "--json", str(CORPUS / "articles.jsonl"), cwd=CORPUS)
    assert result.returncode == 0, result.stderr
    recorded = RECORDED.read_text(encoding="utf-8")
    if result.stdout != recorded:
        changed = difflib.unified_diff(
            recorded.splitlines(), result.stdout.splitlines(), "recorded", "now", lineterm="", n=0
        )
        raise AssertionError("detection output changed:\n" + "\n".join(list(changed)[:40]))
