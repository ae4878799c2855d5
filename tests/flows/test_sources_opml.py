"""`watchfloor sources import FILE.opml` and `sources export` through the real command line:
counts said, --dry-run changes nothing, malformed OPML is one `file:line: reason` line and exit
2, and export -> import into an empty file gives the same sources."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from typer.testing import CliRunner

from adapters.sources.file import load_sources_file
from flows.cli.app import app

SOURCES = """\
# Regional feeds (this comment stays).
defaults:
  poll_interval: 15m
  tags: [lang:en]

sources:
  - name: Yonhap & "Friends" <NK>
    url: https://en.yna.co.kr/RSS/northkorea.xml?a=1&b=2
    tags: [region:korea, wire]
    timezone: Asia/Seoul
  - name: Taipei Times
    url: https://www.taipeitimes.com/xml/index.rss
  - name: Seeds
    kind: seedfiles
    path: seeds
"""

OPML = """\
<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Reader export</title></head>
  <body>
    <outline text="Japan">
      <outline type="rss" text="NHK World" xmlUrl="https://www3.nhk.or.jp/rss/news/cat0.xml"/>
    </outline>
    <outline type="rss" text="Taipei Times" xmlUrl="https://WWW.TAIPEITIMES.COM/xml/index.rss"/>
    <outline type="rss" text="Gopher" xmlUrl="gopher://old.example/feed"/>
  </body>
</opml>
"""


def invoke(*args: str):
    return CliRunner().invoke(app, ["sources", *args])


def sources_file(tmp_path: Path) -> Path:
    (tmp_path / "seeds").mkdir()
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    return path


def test_import_adds_new_feeds_and_says_what_it_skipped(tmp_path: Path) -> None:
    target = sources_file(tmp_path)
    opml = tmp_path / "reader.opml"
    opml.write_text(OPML, encoding="utf-8")

    dry = invoke("import", str(opml), "--sources", str(target), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would add 1 sources" in dry.stdout
    assert target.read_text(encoding="utf-8") == SOURCES

    result = invoke("import", str(opml), "--sources", str(target))
    assert result.exit_code == 0, result.output
    assert "added: NHK World  https://www3.nhk.or.jp/rss/news/cat0.xml [Japan]" in result.stdout
    assert (
        f"added 1 sources to {target}, skipped 1 already present and 1 without a usable feed URL"
        in result.stdout
    )
    assert f"{opml}:9: skipped: url 'gopher://old.example/feed' must start with http" in (
        result.stderr
    )
    text = target.read_text(encoding="utf-8")
    assert text.startswith(SOURCES.rstrip("\n"))  # every byte that was there stays
    nhk = next(s for s in load_sources_file(target) if s.name == "NHK World")
    assert nhk.tags == ("Japan",) and nhk.poll_interval_s == 900

    again = invoke("import", str(opml), "--sources", str(target))
    assert "added 0 sources" in again.stdout and "skipped 2 already present" in again.stdout
    assert target.read_text(encoding="utf-8") == text


def test_malformed_opml_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    target = sources_file(tmp_path)
    bad = tmp_path / "bad.opml"
    bad.write_text('<opml version="2.0">\n<body>\n<outline text="a" & />\n</body></opml>\n')
    result = invoke("import", str(bad), "--sources", str(target))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"config error {bad}:3: not well-formed XML: not well-formed (invalid token)"
    ]
    assert "Traceback" not in result.output
    assert target.read_text(encoding="utf-8") == SOURCES

    missing = invoke("import", str(tmp_path / "nope.opml"), "--sources", str(target))
    assert missing.exit_code == 2 and "nope.opml: no such file" in missing.stderr


def test_import_into_a_broken_sources_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "sources.yaml"
    target.write_text("sources:\n  - name: x\n    url: ftp://x/\n", encoding="utf-8")
    opml = tmp_path / "reader.opml"
    opml.write_text(OPML, encoding="utf-8")
    result = invoke("import", str(opml), "--sources", str(target))
    assert result.exit_code == 2 and f"{target}:3:" in result.stderr
    assert target.read_text(encoding="utf-8").endswith("url: ftp://x/\n")


def test_export_then_import_into_an_empty_file_gives_the_same_sources(tmp_path: Path) -> None:
    target = sources_file(tmp_path)
    exported = tmp_path / "out.opml"
    result = invoke("export", "--sources", str(target), "-o", str(exported))
    assert result.exit_code == 0, result.output
    assert "left out 1 sources without a feed URL" in result.stderr
    root = ElementTree.parse(exported).getroot()
    assert root.tag == "opml" and root.get("version") == "2.0"
    outlines = root.findall("./body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [
        "https://en.yna.co.kr/RSS/northkorea.xml?a=1&b=2",
        "https://www.taipeitimes.com/xml/index.rss",
    ]
    assert outlines[0].get("text") == 'Yonhap & "Friends" <NK>'
    assert outlines[0].get("category") == "region:korea,wire"
    assert outlines[1].get("category") == "lang:en"  # the defaults' tags are the source's

    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    back = invoke("import", str(exported), "--sources", str(empty))
    assert back.exit_code == 0, back.output
    assert "added 2 sources" in back.stdout

    def feeds(path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
        specs = load_sources_file(path)
        return [(s.name, s.location, s.tags) for s in specs if s.kind == "rss"]

    assert feeds(empty) == feeds(target)


def test_export_to_stdout(tmp_path: Path) -> None:
    result = invoke("export", "--sources", str(sources_file(tmp_path)))
    assert result.exit_code == 0, result.output
    root = ElementTree.fromstring(result.stdout_bytes)
    assert [o.get("title") for o in root.iter("outline")] == [
        'Yonhap & "Friends" <NK>',
        "Taipei Times",
    ]
