"""Development identity: reports of one event make one development, distinct events of one week
make one each.

Every sentence here is written for these tests, after the patterns of wire reports in English,
Korean, Japanese and Chinese: several outlets report one launch the same day, each naming the
actor its own way ("North Korea", "Pyongyang", "Kim Jong Un"); a minister meets two counterparts
in one week; two exercises that share one state run on consecutive days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

import detect
from core.model import DetectionInput, Development, DevelopmentChange, Match, NewRef, StoredRef
from detect.engine.identity import compatible, identity_of, same_event, same_parties

# (published, title, text): one report as a feed gives it.
Report = tuple[str, str, str]


def run(
    ruleset: detect.RuleSet,
    reports: Sequence[Report],
    known: Sequence[Development] = (),
    first: int = 0,
) -> list[DevelopmentChange]:
    """Detect each report (key "r<n>", counted from `first`, in the order given) and join the
    matches to `known` and to each other, as a replay of a run of feeds does."""
    matches: list[Match] = []
    for number, (published, title, text) in enumerate(reports, start=first):
        reference = datetime.fromisoformat(published).replace(tzinfo=UTC)
        matches += detect.detect(ruleset, DetectionInput(f"r{number}", title, text, reference))
    return detect.assign(matches, known)


def developments(changes: Sequence[DevelopmentChange]) -> dict[str, set[str]]:
    """Development ref -> the reports that are its evidence."""
    found: dict[str, set[str]] = {}
    for change in changes:
        found.setdefault(change.ref, set()).update(m.article_key for m in change.evidence)
    return found


def alerts(changes: Sequence[DevelopmentChange]) -> Counter[str]:
    """How many alerts of each kind the changes raise."""
    return Counter(c.alert for c in changes if c.alert is not None)


# --- the identity test itself -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ({"North Korea"}, {"North Korea", "Russia"}, True),  # a partial list of the parties
        (set(), {"China"}, True),  # a report that names no one fits any
        ({"South Korea", "United States", "Japan"}, {"South Korea", "United States"}, True),
        # Each outlet adds whoever else it names: two parties in common still make one event.
        (
            {"South Korea", "United States", "Japan"},
            {"South Korea", "United States", "North Korea"},
            True,
        ),
        ({"Japan", "Philippines"}, {"United States", "Japan", "South Korea"}, False),
        ({"Shinjiro Koizumi", "Ahn Gyu-back"}, {"Shinjiro Koizumi", "Pete Hegseth"}, False),
        ({"North Korea"}, {"China"}, False),
    ],
)
def test_parties_must_nest_or_share_two(left: set[str], right: set[str], same: bool) -> None:
    assert same_parties(frozenset(left), frozenset(right)) is same
    assert same_parties(frozenset(right), frozenset(left)) is same


def test_one_article_joins_mentions_that_share_a_party() -> None:
    """Within one article, sentence by sentence, one party in common is enough: "China Coast
    Guard ships entered Japanese waters" and "the Japan Coast Guard warned the China Coast
    Guard ships" are one incident."""
    first = identity_of(date(2026, 3, 10), ["China Coast Guard", "Japan"], None)
    second = identity_of(date(2026, 3, 10), ["China Coast Guard", "Japan Coast Guard"], None)
    assert compatible(first, second)
    assert not same_event(first, second)  # across outlets, the parties must nest or share two


def test_dates_and_places_still_separate() -> None:
    tuesday = identity_of(date(2026, 3, 10), ["North Korea"], None)
    assert same_event(tuesday, identity_of(date(2026, 3, 11), ["North Korea"], None))
    assert not same_event(tuesday, identity_of(date(2026, 3, 13), ["North Korea"], None))
    tokyo = identity_of(date(2026, 3, 12), ["Shinjiro Koizumi"], "Tokyo")
    assert not same_event(tokyo, identity_of(date(2026, 3, 12), ["Shinjiro Koizumi"], "Manila"))


PLANNED = Match(
    article_key="a1",
    rule_id="ministerial_meeting",
    category="ministerial_meeting",
    status="planned",
    background=False,
    event_date=date(2026, 3, 12),
    place=None,
    actors=("Shinjiro Koizumi", "Richard Marles"),
    facts={},
    terms=("meet",),
    snippet="Koizumi will meet Marles on Thursday.",
    level="medium",
    tags=(),
    title="Japan–Australia defense ministers meet",
)


def test_another_meeting_of_the_minister_does_not_hold_the_planned_one() -> None:
    """The minister's meeting with another counterpart the day before is no news that the
    planned one took place: no status change, a development of its own."""
    other = replace(
        PLANNED,
        article_key="a2",
        status="occurred",
        event_date=date(2026, 3, 11),
        actors=("Shinjiro Koizumi", "Gilberto Teodoro"),
    )
    held = replace(PLANNED, article_key="a3", status="occurred", actors=("Richard Marles",))
    changes = detect.assign([PLANNED, other, held], [])
    assert [(c.ref, c.alert) for c in changes] == [
        (NewRef(1), "new"),
        (NewRef(2), "new"),
        (NewRef(1), "status_change"),
    ]


def test_context_or_an_anonymous_report_does_not_move_a_planned_event() -> None:
    """Context an article sets in the past, or a report naming no day, party or place, joins
    the planned meeting without moving it on; the first identified report that it was held
    raises the status change."""
    context = replace(PLANNED, article_key="a2", status="occurred", background=True)
    anonymous = replace(
        PLANNED, article_key="a3", status="occurred", event_date=None, actors=(), place=None
    )
    held = replace(PLANNED, article_key="a4", status="occurred", event_date=None)
    changes = detect.assign([PLANNED, context, anonymous, held], [])
    assert [(c.ref, c.development.status, c.alert) for c in changes] == [
        (NewRef(1), "planned", "new"),
        (NewRef(1), "planned", None),
        (NewRef(1), "planned", None),
        (NewRef(1), "occurred", "status_change"),
    ]


def test_a_context_only_development_takes_its_status_from_context() -> None:
    announced = replace(PLANNED, background=True)
    recalled = replace(PLANNED, article_key="a2", status="occurred", background=True)
    changes = detect.assign([announced, recalled], [])
    assert [(c.development.status, c.development.background, c.alert) for c in changes] == [
        ("planned", True, None),
        ("occurred", True, None),
    ]


def test_two_events_one_article_kept_apart_stay_apart() -> None:
    """One article's two matches of one rule are two events by its own reading (news, and the
    context it recalls with a date of its own): they never fold into one development."""
    news = replace(PLANNED, status="occurred", event_date=None)
    recalled = replace(news, background=True, event_date=date(2025, 11, 3))
    assert [c.ref for c in detect.assign([news, recalled], [])] == [NewRef(1), NewRef(2)]


def test_undated_context_in_a_news_article_joins_its_news() -> None:
    """An undated mention read as context ("talks after the missile launch") names no event of
    its own: in an article that reports the event, it is evidence of that event (the seeds'
    "Key Points: ... After N.Korea Missile Launch"), whichever comes first."""
    news = replace(PLANNED, status="occurred", event_date=None)
    context = replace(news, background=True)
    for order in ([news, context], [context, news]):
        assert [c.ref for c in detect.assign(order, [])] == [NewRef(1)]


# --- distinct events of one week stay apart -----------------------------------------------------

APART: dict[str, tuple[Report, Report]] = {
    "launches by two states, en": (
        (
            "2026-03-10T05:00:00",
            "North Korea fires ballistic missile into East Sea",
            "North Korea fired a short-range ballistic missile into the East Sea on Tuesday, "
            "South Korea's Joint Chiefs of Staff said.",
        ),
        (
            "2026-03-10T08:00:00",
            "China fires missile in drills",
            "China fired a ballistic missile into waters east of Taiwan on Tuesday, Taiwan's "
            "defence ministry said.",
        ),
    ),
    "launches by two states, ko": (
        (
            "2026-03-10T05:30:00",
            "북한, 탄도미사일 발사",
            "북한이 10일 오전 동해상으로 탄도미사일 1발을 발사했다.",
        ),
        (
            "2026-03-10T06:30:00",
            "중국, 탄도미사일 시험발사",
            "중국이 10일 탄도미사일 1발을 시험 발사했다.",
        ),
    ),
    "launches by two states, ja": (
        (
            "2026-03-10T07:00:00",
            "北朝鮮が弾道ミサイル発射",
            "北朝鮮は10日朝、弾道ミサイル1発を発射した。",
        ),
        (
            "2026-03-10T07:30:00",
            "中国が弾道ミサイル発射",
            "中国は10日、弾道ミサイル1発を発射した。",
        ),
    ),
    "launches by two states, zh": (
        ("2026-03-10T08:00:00", "朝鲜发射弹道导弹", "朝鲜10日上午向东部海域发射了一枚弹道导弹。"),
        ("2026-03-10T08:30:00", "中国试射弹道导弹", "中国10日试射了一枚弹道导弹。"),
    ),
    "one minister, two counterparts, en": (
        (
            "2026-03-10T09:00:00",
            "Koizumi, Ahn hold defense talks in Yokosuka",
            "Japanese Defense Minister Shinjiro Koizumi and South Korean Defense Minister Ahn "
            "Gyu-back held talks in Yokosuka on Tuesday.",
        ),
        (
            "2026-03-11T06:00:00",
            "Koizumi meets Teodoro",
            "Japanese Defense Minister Shinjiro Koizumi met Philippine Defense Secretary "
            "Gilberto Teodoro on Wednesday.",
        ),
    ),
    "one minister, two counterparts, ja": (
        (
            "2026-03-10T09:00:00",
            "小泉防衛相、安圭伯国防相と横須賀で会談",
            "小泉進次郎防衛相は10日、横須賀で韓国の安圭伯国防相と会談した。",
        ),
        (
            "2026-03-11T09:00:00",
            "小泉防衛相、ヘグセス米国防長官と会談",
            "小泉進次郎防衛相は11日、ヘグセス米国防長官と会談した。",
        ),
    ),
    "one minister, two counterparts, ko": (
        (
            "2026-03-10T09:30:00",
            "안규백 장관, 고이즈미 방위상과 회담",
            "안규백 국방부 장관은 10일 요코스카에서 고이즈미 신지로 일본 방위상과 회담했다.",
        ),
        (
            "2026-03-11T09:30:00",
            "안규백 장관, 헤그세스 장관과 회담",
            "안규백 국방부 장관은 11일 피트 헤그세스 미국 국방장관과 회담했다.",
        ),
    ),
    "one minister, two counterparts, zh": (
        (
            "2026-03-10T10:00:00",
            "日韩防长在横须贺会谈",
            "日本防卫大臣小泉进次郎10日在横须贺与韩国国防部长官安圭伯举行会谈。",
        ),
        (
            "2026-03-11T09:00:00",
            "小泉防卫大臣与赫格塞斯会谈",
            "日本防卫大臣小泉进次郎11日在华盛顿与美国国防部长赫格塞斯举行会谈。",
        ),
    ),
    "two exercises sharing one state, en": (
        (
            "2026-03-10T10:00:00",
            "US, Japan, South Korea stage trilateral drills",
            "The United States, Japan and South Korea staged a trilateral air exercise over the "
            "East China Sea on Tuesday.",
        ),
        (
            "2026-03-11T05:00:00",
            "Japan, Philippines hold joint naval exercise",
            "Japan and the Philippines held a joint naval exercise in the South China Sea on "
            "Wednesday.",
        ),
    ),
    "two exercises sharing one state, ko": (
        (
            "2026-03-10T10:00:00",
            "한미일, 3자 공중훈련 실시",
            "한국과 미국, 일본은 10일 동중국해 상공에서 3자 공중훈련을 실시했다.",
        ),
        (
            "2026-03-11T10:00:00",
            "일본·필리핀, 남중국해서 연합훈련",
            "일본과 필리핀은 11일 남중국해에서 연합 해상훈련을 실시했다.",
        ),
    ),
    "exercise and talks": (
        (
            "2026-03-10T10:00:00",
            "US, Japan, South Korea stage trilateral drills",
            "The United States, Japan and South Korea staged a trilateral air exercise over the "
            "East China Sea on Tuesday.",
        ),
        (
            "2026-03-11T06:00:00",
            "Koizumi meets Teodoro",
            "Japanese Defense Minister Shinjiro Koizumi met Philippine Defense Secretary "
            "Gilberto Teodoro on Wednesday.",
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(APART))
def test_distinct_events_of_one_week_stay_apart(ruleset: detect.RuleSet, case: str) -> None:
    changes = run(ruleset, APART[case])
    assert sorted(developments(changes).values(), key=sorted) == [{"r0"}, {"r1"}], case
    assert alerts(changes) == {"new": 2}, case


BACK_TO_BACK: dict[str, Report] = {
    "en": (
        "2026-03-10T09:00:00",
        "Koizumi holds back-to-back defense talks",
        "Japanese Defense Minister Shinjiro Koizumi met South Korean Defense Minister Ahn "
        "Gyu-back in Yokosuka on Tuesday. Later on Tuesday, Koizumi held separate talks with "
        "Australian Defence Minister Richard Marles. Koizumi told reporters the talks were "
        "productive.",
    ),
    "ko": (
        "2026-03-10T09:00:00",
        "안규백 장관, 고이즈미·헤그세스와 잇따라 회담",
        "안규백 국방부 장관은 10일 요코스카에서 고이즈미 신지로 일본 방위상과 회담했다. "
        "안 장관은 같은 날 피트 헤그세스 미국 국방장관과도 회담했다.",
    ),
    "zh": (
        "2026-03-10T09:00:00",
        "安圭伯与小泉、赫格塞斯先后会谈",
        "韩国国防部长官安圭伯10日在横须贺与日本防卫大臣小泉进次郎举行会谈。"
        "安圭伯当天还与美国国防部长赫格塞斯举行了会谈。",
    ),
}


@pytest.mark.parametrize("language", sorted(BACK_TO_BACK))
def test_one_article_one_minister_two_meetings(ruleset: detect.RuleSet, language: str) -> None:
    """People named as participants are exact: one article's two meetings of one minister,
    each with another counterpart, are two events (states a sentence names are not: there
    mentions that share one party stay one event)."""
    changes = run(ruleset, [BACK_TO_BACK[language]])
    assert len(changes) == 2
    pairs = [set(c.development.actors) for c in changes]
    assert pairs[0] & pairs[1] and pairs[0] != pairs[1]
    assert all(len(pair) == 2 for pair in pairs)


# --- reports of one event join ------------------------------------------------------------------

TOGETHER: dict[str, list[Report]] = {
    "one launch, five outlets, four languages": [
        (
            "2026-03-10T05:00:00",
            "North Korea fires ballistic missile into East Sea",
            "North Korea fired a short-range ballistic missile into the East Sea on Tuesday, "
            "South Korea's Joint Chiefs of Staff said.",
        ),
        (
            "2026-03-10T05:30:00",
            "북한, 동해상으로 탄도미사일 발사",
            "북한이 10일 오전 동해상으로 단거리 탄도미사일 1발을 발사했다고 합동참모본부가 밝혔다.",
        ),
        (
            "2026-03-10T06:00:00",
            "平壌、弾道ミサイルを発射",
            "平壌は10日朝、日本海に向けて弾道ミサイル1発を発射した。",
        ),
        (
            "2026-03-10T06:30:00",
            "Kim Jong Un oversees missile launch",
            "Kim Jong Un oversaw the test-firing of a new ballistic missile on Tuesday, state "
            "media said.",
        ),
        ("2026-03-10T07:00:00", "朝鲜发射弹道导弹", "朝鲜10日上午向东部海域发射了一枚弹道导弹。"),
    ],
    "one meeting, three outlets, one naming only the host": [
        (
            "2026-03-10T09:00:00",
            "Koizumi, Ahn hold defense talks in Yokosuka",
            "Japanese Defense Minister Shinjiro Koizumi and South Korean Defense Minister Ahn "
            "Gyu-back held talks in Yokosuka on Tuesday.",
        ),
        (
            "2026-03-10T09:30:00",
            "고이즈미 방위상, 안규백 국방장관과 요코스카서 회담",
            "안규백 국방부 장관은 10일 요코스카에서 고이즈미 신지로 일본 방위상과 회담했다.",
        ),
        (
            "2026-03-10T10:00:00",
            "小泉防衛相、横須賀で韓国国防相と会談",
            "小泉進次郎防衛相は10日、横須賀で韓国の国防相と会談した。",
        ),
    ],
    "one exercise, three outlets": [
        (
            "2026-03-10T10:00:00",
            "US, Japan, South Korea stage trilateral drills",
            "The United States, Japan and South Korea staged a trilateral air exercise over the "
            "East China Sea on Tuesday.",
        ),
        (
            "2026-03-10T10:30:00",
            "한미일, 3자 공중훈련 실시",
            "한국과 미국, 일본은 10일 동중국해 상공에서 3자 공중훈련을 실시했다.",
        ),
        (
            "2026-03-10T11:00:00",
            "美日韩举行三边空中演习",
            "美国、日本和韩国10日在东海上空举行了三边空中联合演习。",
        ),
    ],
}


@pytest.mark.parametrize("case", sorted(TOGETHER))
def test_reports_of_one_event_are_one_development(ruleset: detect.RuleSet, case: str) -> None:
    changes = run(ruleset, TOGETHER[case])
    everyone = {f"r{n}" for n in range(len(TOGETHER[case]))}
    assert list(developments(changes).values()) == [everyone], case
    assert alerts(changes) == {"new": 1}, case


@pytest.mark.parametrize(
    "announced",
    [
        (
            "2026-03-09T06:00:00",
            "Koizumi to host Australia's Marles in Tokyo",
            "Japanese Defense Minister Shinjiro Koizumi will meet Australian Defence Minister "
            "Richard Marles in Tokyo on Thursday, the ministry said.",
        ),
        (
            "2026-03-09T06:00:00",
            "고이즈미 방위상, 12일 도쿄서 말스 호주 국방장관과 회담 예정",
            "고이즈미 신지로 일본 방위상은 12일 도쿄에서 리처드 말스 호주 국방장관과 "
            "회담할 예정이다.",
        ),
        (
            "2026-03-09T06:00:00",
            "小泉防衛相、東京でマールズ豪国防相と会談へ",
            "小泉進次郎防衛相は12日、東京でオーストラリアのマールズ国防相と会談する予定だ。",
        ),
    ],
)
def test_a_planned_meeting_held_moves_on_and_stays_one(
    ruleset: detect.RuleSet, announced: Report
) -> None:
    held: Report = (
        "2026-03-12T06:00:00",
        "Koizumi, Marles meet in Tokyo",
        "Japanese Defense Minister Shinjiro Koizumi met Australian Defence Minister Richard "
        "Marles in Tokyo on Thursday.",
    )
    changes = run(ruleset, [announced, held])
    assert [(c.ref, c.previous_status, c.development.status, c.alert) for c in changes] == [
        (NewRef(1), None, "planned", "new"),
        (NewRef(1), "planned", "occurred", "status_change"),
    ]


# --- a week of reports, as a replay reads it ------------------------------------------------------

WEEK: list[Report] = [
    APART["one minister, two counterparts, en"][0],  # r0: Koizumi–Ahn, Tuesday, Yokosuka
    (
        "2026-03-09T06:00:00",
        "Koizumi to host Australia's Marles in Tokyo",
        "Japanese Defense Minister Shinjiro Koizumi will meet Australian Defence Minister Richard "
        "Marles in Tokyo on Thursday, the ministry said.",
    ),  # r1: Koizumi–Marles announced
    *TOGETHER["one launch, five outlets, four languages"],  # r2..r6: North Korea's launch
    APART["launches by two states, en"][1],  # r7: China's launch, the same day
    *TOGETHER["one exercise, three outlets"],  # r8..r10: the trilateral exercise
    APART["two exercises sharing one state, en"][1],  # r11: Japan–Philippines exercise
    APART["one minister, two counterparts, ko"][0],  # r12: Koizumi–Ahn again, in Korean
    APART["one minister, two counterparts, en"][1],  # r13: Koizumi–Teodoro, Wednesday
    (
        "2026-03-12T06:00:00",
        "Koizumi, Marles meet in Tokyo",
        "Japanese Defense Minister Shinjiro Koizumi met Australian Defence Minister Richard "
        "Marles in Tokyo on Thursday.",
    ),  # r14: Koizumi–Marles held
    (
        "2026-03-12T07:00:00",
        "小泉防衛相、マールズ豪国防相と会談",
        "小泉進次郎防衛相は12日、東京でオーストラリアのマールズ国防相と会談した。",
    ),  # r15: the same, in Japanese
]


def test_a_week_of_reports_gives_one_development_per_event(ruleset: detect.RuleSet) -> None:
    changes = run(ruleset, WEEK)
    assert sorted(map(sorted, developments(changes).values())) == sorted(
        map(
            sorted,
            [
                {"r0", "r12"},  # Koizumi–Ahn
                {"r1", "r14", "r15"},  # Koizumi–Marles, planned then held
                {"r2", "r3", "r4", "r5", "r6"},  # North Korea's launch
                {"r7"},  # China's launch
                {"r8", "r9", "r10"},  # the trilateral exercise
                {"r11"},  # Japan–Philippines exercise
                {"r13"},  # Koizumi–Teodoro
            ],
        )
    )
    assert alerts(changes) == {"new": 7, "status_change": 1}
    (moved,) = [c for c in changes if c.alert == "status_change"]
    assert moved.evidence[0].article_key == "r14"
    assert set(moved.development.actors) == {"Shinjiro Koizumi", "Richard Marles"}


def test_the_week_in_two_chunks_joins_stored_developments(ruleset: detect.RuleSet) -> None:
    """A replay detects in chunks: the second chunk joins what the first stored (by id), and
    the week is grouped as in one batch."""
    first = run(ruleset, WEEK[:9])
    latest = {change.ref: change.development for change in first}
    stored = [replace(dev, id=number) for number, dev in enumerate(latest.values(), start=1)]
    grouped = {StoredRef(n): keys for n, keys in enumerate(developments(first).values(), start=1)}
    second = run(ruleset, WEEK[9:], known=stored, first=9)
    for ref, keys in developments(second).items():
        grouped.setdefault(ref, set()).update(keys)
    one_batch = developments(run(ruleset, WEEK)).values()
    assert sorted(map(sorted, grouped.values())) == sorted(map(sorted, one_batch))
    assert alerts(second) == {"new": 2, "status_change": 1}
