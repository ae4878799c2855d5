"""Near-duplicates on the development page: a real monitor flow run over three seedfiles
outlets that carry the same wire story, a real SQLite store, real HTTP to the console and
headless Chromium. The copies are grouped under their original; split off, the original
leaves and its copies stay grouped together."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect

from db.browse import EvidenceItem, group_near_duplicates
from tests.adapters.monitorkit import run_monitor
from tests.conftest import store_env
from tests.notify.alertkit import install_clock
from tests.web.browserkit import browser_tab, launched_chromium
from tests.web.webkit import TOKEN, config_for, csrf_of, development_ids, serving, sqlite_copy

# One paragraph a line; the same wire story filed by every outlet, word for word.
WIRE = (
    "date: 2026-02-03\n"
    "North Korea fires two ballistic missiles into the Yellow Sea\n\n"
    "SEOUL, Feb 3 (Yonhap) -- North Korea fired two short-range ballistic missiles into the "
    "Yellow Sea on Tuesday morning, South Korea's Joint Chiefs of Staff said. The missiles flew "
    "about 300 km.\n"
)
# A name with markup: outlet names are shown escaped, in rows and in the copies line.
OUTLETS = ("seoul-wire", "tokyo-desk", "Wire <b>&</b> Co")


def write_outlets(folder: Path) -> str:
    """A sources file of one seedfiles source per outlet, each holding the wire story."""
    document: dict[str, list[dict[str, str]]] = {"sources": []}
    for number, name in enumerate(OUTLETS):
        path = folder / f"outlet{number}"
        path.mkdir()
        (path / "article.txt").write_text(WIRE, encoding="utf-8")
        document["sources"].append({"name": name, "kind": "seedfiles", "path": str(path)})
    sources = folder / "sources.yaml"
    sources.write_text(yaml.safe_dump(document), encoding="utf-8")
    return str(sources)


def evidence_rows(page: str) -> list[tuple[str, str | None]]:
    """The page's evidence rows in order: (outlet cell text, the article it copies or None)."""
    rows = re.findall(
        r'<tr class="evidence(?: copy)?"(?: data-copy-of="(\d+)")?>.*?<td>\d+</td><td>(.*?)</td>',
        page,
        flags=re.S,
    )
    return [(re.sub(r"<span.*?</span> ", "", outlet), copy_of or None) for copy_of, outlet in rows]


def copies_lines(page: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", line)
        for line in re.findall(r'<tr class="copies"><td[^>]*>(.*?)</td>', page, flags=re.S)
    ]


@pytest.fixture(scope="module")
def wire_store(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a SQLite store made by a monitor run over the three outlets (copy it to change)."""
    folder = tmp_path_factory.mktemp("wire")
    url = f"sqlite:///{folder / 'wire.db'}"
    with pytest.MonkeyPatch.context() as patch, store_env(url):
        install_clock(patch).advance(days=8)
        run_monitor(sources_file=write_outlets(folder))
    return url


def test_wire_copies_are_grouped_under_their_original(wire_store: str, tmp_path: Path) -> None:
    escaped = "Wire &lt;b&gt;&amp;&lt;/b&gt; Co"
    with serving(config_for(sqlite_copy(wire_store, tmp_path), token=TOKEN)) as client:
        client.get("/login", params={"token": TOKEN})
        launch = development_ids(client)["missile_launch"]
        page = client.get(f"/developments/{launch}").text
        rows = evidence_rows(page)
        assert "<b>&</b>" not in page
        # Every report is shown: the original first, then its two copies, marked as such.
        assert len(rows) == 3 and page.count('class="evidence-group"') == 1
        (_original, original_of), *copies = rows
        assert original_of is None
        assert {copy_of for _, copy_of in copies} != {None}
        assert len({copy_of for _, copy_of in copies}) == 1
        assert sorted(outlet for outlet, _ in rows) == sorted(["seoul-wire", "tokyo-desk", escaped])
        copied = [outlet for outlet, _ in copies]
        assert copies_lines(page) == [f"2 copies: {', '.join(copied)}"]
        # Each report keeps its headline and snippet (seed files carry no link to show).
        assert page.count("ballistic missiles into the Yellow Sea\n") == 3
        assert page.count("<blockquote>") == 3

        # Split the original off: its copies stay, grouped under the article they copy.
        original_evidence = re.findall(r'name="evidence" value="(\d+)"', page)[0]
        split = client.post(
            f"/developments/{launch}/split",
            data={"csrf": csrf_of(page), "evidence": original_evidence},
        )
        assert split.status_code == 303
        after = client.get(f"/developments/{launch}").text
    assert [outlet for outlet, _ in evidence_rows(after)] == copied
    article = copies[0][1]
    assert copies_lines(after) == [
        f"2 copies of article {article}, itself not evidence of this development: "
        f"{', '.join(copied)}"
    ]


def test_the_browser_shows_the_copies_indented_under_the_original(wire_store: str) -> None:
    # Chromium for this test alone: while Playwright runs, a Prefect flow called in this process
    # (a session fixture that a later test of this worker sets up) would not run.
    with (
        launched_chromium() as chromium,
        serving(config_for(wire_store)) as client,
        browser_tab(chromium, str(client.base_url)) as tab,
    ):
        tab.goto(f"/developments/{development_ids(client)['missile_launch']}")
        rows = tab.locator("tbody.evidence-group tr")
        expect(rows).to_have_count(4)  # the original, the copies line, two copies
        assert rows.nth(1).inner_text().startswith("2 copies: ")
        assert "Wire <b>&</b> Co" in tab.locator("tbody.evidence-group").inner_text()
        titles = tab.locator("tr.evidence td:nth-last-child(3)")
        lefts = [(cell.bounding_box() or {"x": 0})["x"] for cell in titles.all()]
        pads = [
            cell.evaluate("c => parseFloat(getComputedStyle(c).paddingLeft)")
            for cell in titles.all()
        ]
        assert len(set(lefts)) == 1 and pads[0] < pads[1] == pads[2]


def test_a_page_without_copies_has_no_copies_line(seed_store: str) -> None:
    with serving(config_for(seed_store)) as client:
        ids = development_ids(client)
        pages = [client.get(f"/developments/{i}").text for i in ids.values()]
    assert all(copies_lines(page) == [] for page in pages)
    assert all(copy_of is None for page in pages for _, copy_of in evidence_rows(page))
    assert sum(len(evidence_rows(page)) for page in pages) == sum(
        page.count('class="evidence"') for page in pages
    )


def test_the_groups_keep_every_item_once() -> None:
    """group_near_duplicates over typed items: copies of an absent original go together."""

    def item(evidence_id: int, article_id: int, duplicate_of: int | None) -> EvidenceItem:
        at = datetime(2026, 2, 3, tzinfo=UTC)
        return EvidenceItem(
            id=evidence_id,
            article_id=article_id,
            outlet=f"o{article_id}",
            title="t",
            url=None,
            published_at=at,
            snippet="",
            status_seen="occurred",
            rule_id="r",
            background=False,
            created_at=at,
            duplicate_of=duplicate_of,
        )

    items = [
        item(1, 10, None),
        item(2, 20, 99),
        item(3, 11, 10),
        item(4, 21, 99),
        item(5, 10, None),
    ]
    groups = group_near_duplicates(items)
    assert [
        (g.article_id, [i.id for i in g.original], [i.id for i in g.copies]) for g in groups
    ] == [
        (10, [1, 5], [3]),
        (99, [], [2, 4]),
    ]
