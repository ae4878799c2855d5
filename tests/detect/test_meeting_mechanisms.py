"""How the shipped rules tell meetings apart: a summit is leaders of two states meeting (whatever
the verb, in person or by video); a ministerial meeting is cabinet ministers of two states
meeting. A minister received by a leader, a phone call, a domestic security council, a party
candidate, a leader leaving for talks, a call-off or a habit is neither. Every sentence is
written for this test (none is taken from a labelled corpus); the article is of Wednesday
28 January 2026."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import detect
from core.model import DetectionInput

WEDNESDAY = datetime(2026, 1, 28, tzinfo=UTC)


def reported(ruleset: detect.RuleSet, text: str) -> list[str]:
    """The categories `text` reports as news."""
    matches = detect.detect(ruleset, DetectionInput("t", "", text, WEDNESDAY, dated=True))
    return sorted(detect.reported_categories(matches))


SUMMITS = [
    # Leaders as a pair, whatever the meeting verb.
    "The two leaders met in Tokyo on Tuesday and agreed to expand security cooperation.",
    "Prime Minister Sanae Takaichi and President Lee Jae-myung had talks in Nara on Tuesday.",
    "양 정상은 27일 서울에서 만나 안보 협력 강화에 합의했다.",
    "이재명 대통령과 다카이치 총리가 27일 도쿄에서 회동했다.",
    "両首脳は27日、東京で会談し、安全保障協力の強化で一致した。",
    "高市早苗首相は27日、李在明大統領と官邸で会談した。",
    "习近平27日在北京会见了到访的俄罗斯总统普京。",
    "習近平27日在北京與普京舉行會晤。",
    # The leaders of three states as a group.
    "中日韩三国政府首脑27日在首尔举行会晤。",
    "한중일 3국 정상은 27일 서울에서 만나 공동선언을 채택했다.",
    # Video summits.
    "이재명 대통령과 트럼프 대통령이 27일 화상 정상회담을 가졌다.",
    "高市首相は27日、トランプ大統領とオンライン首脳会談を行った。",
    "习近平与拜登27日举行视频会晤。",
    # A Chinese summit named by its leaders' short names.
    "金特会27日在河内举行。",
    "川金會27日下午簽署聯合聲明。",
]

MINISTERIAL = [
    # A minister's visit that is a meeting with the named counterpart.
    "조현 외교부 장관이 27일 중국을 방문해 왕이 외교부장과 만나 회담했다.",
    # The states named by a compound of their short names.
    "한미일 외교장관이 27일 뉴욕에서 회의를 열고 공동성명을 발표했다.",
    "日韓外相は27日、東京で会談し、協力強化で一致した。",
    "中美防长27日在吉隆坡举行会谈。",
    "日美外長27日舉行視訊會談。",
    # Ministers who met and agreed on a summit for later: theirs is the only meeting held.
    "日韓外相は27日、東京で会談し、首脳会談の早期開催で一致した。",
    # Two ministers of two states, whatever the verb.
    "岩屋外相は27日、王毅外相と北京で会談した。",
    (
        "Foreign Minister Cho Hyun and his Japanese counterpart Takeshi Iwaya had talks in "
        "Seoul on Tuesday."
    ),
]

NEITHER = [
    # A minister received by a head of government: no summit, and no two ministers.
    "Foreign Minister Takeshi Iwaya met Premier Li Qiang in Beijing on Tuesday.",
    "岩屋外相は27日、北京で李強首相と面会した。",
    "日本外相茂木敏充27日访问中国，会见了李强总理。",
    # Telephone talks.
    (
        "Prime Minister Sanae Takaichi and President Lee Jae-myung held talks over the "
        "telephone on Tuesday."
    ),
    # A party candidate is not a head of government.
    "自民党总裁候选人高市早苗与蔡英文举行视频会谈。",
    # Leaving for a summit, or unable to travel: the talks are still to come.
    "尹锡悦今天启程前往美国，将出席美日韩峰会。",
    "岸田首相未能访美。",
    # A summit agreed for later is planned, however past the verb of agreeing.
    "両国は首脳会談の早期開催で一致した。",
    "양국은 정상회담을 조속히 개최하기로 합의했다.",
    # Habits and counts name no one meeting.
    "三国领导人每年举行峰会。",
    "한일 국방장관은 매년 회담을 갖는다.",
    # A state's own security council, advisers and vice-ministers.
    "政府は27日、国家安全保障会議の閣僚会合を開き、防衛大臣と外務大臣が出席した。",
    "국가안전보장회의 상임위원회가 27일 열려 국방부 장관과 외교부 장관이 참석했다.",
    "The national security adviser met his Japanese counterpart in Washington on Tuesday.",
    "Vice Foreign Minister Park met his Japanese counterpart in Seoul on Tuesday.",
    # Korean non-past: the meeting is announced, not held.
    "한미 외교장관이 30일 워싱턴에서 회담을 개최한다.",
]


@pytest.mark.parametrize("text", SUMMITS)
def test_leaders_meeting_is_a_summit(ruleset: detect.RuleSet, text: str) -> None:
    assert reported(ruleset, text) == ["summit"]


@pytest.mark.parametrize("text", MINISTERIAL)
def test_ministers_of_two_states_meeting_is_ministerial(ruleset: detect.RuleSet, text: str) -> None:
    assert reported(ruleset, text) == ["ministerial_meeting"]


@pytest.mark.parametrize("text", NEITHER)
def test_other_meetings_are_neither(ruleset: detect.RuleSet, text: str) -> None:
    assert reported(ruleset, text) == []


def test_every_person_has_a_state(ruleset: detect.RuleSet) -> None:
    """A sentence naming only a person ("Kim Jong Un ...") can be resolved to a state only if
    the alias table gives every person a country."""
    table = ruleset.entities.entities
    stateless = [
        e.name
        for e in table.values()
        if e.kind == "person"
        and (e.country is None or table.get(e.country) is None or table[e.country].kind != "state")
    ]
    assert stateless == []
