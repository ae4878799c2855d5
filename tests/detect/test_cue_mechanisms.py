"""General cue mechanisms: what the headline and lede carry against what deeper sentences only
recall, plan/preview/threat cues, Korean and Japanese tense, sanctions adopted against
proposed or existing, and the engine agreeing with `explain`. Every sentence here is written
for the test (none comes from a labelled corpus)."""

from __future__ import annotations

from datetime import UTC, datetime

import detect
from core.model import DetectionInput

WEDNESDAY = datetime(2026, 1, 28, tzinfo=UTC)
ALIASES = {
    "entities.yaml": """
states:
  - name: North Korea
    aliases: [DPRK]
""",
}
# A rule whose condition needs a selection of `none` terms alone: it holds where no drill word
# stands, so "North Korea fired a missile" is a launch and "fired a missile in a drill" is not.
NONE_ONLY = """
id: launch
category: missile_launch
title: "{actor} fires"
selections:
  launch: [fired]
  weapon: [missile]
  calm: {none: [drill, simulated]}
condition: launch and weapon and calm
status:
  occurred: [fired]
examples:
  positive: ["North Korea fired a missile."]
  negative: ["The army fired a simulated missile in a drill."]
"""


def reported(ruleset: detect.RuleSet, text: str, title: str = "") -> list[str]:
    """The categories `text` reports as news (an article of Wednesday 28 January 2026)."""
    item = DetectionInput("t", title, text, WEDNESDAY, dated=True)
    return sorted(detect.reported_categories(detect.detect(ruleset, item)))


def test_a_none_only_selection_lets_the_rule_fire_and_explain_agrees() -> None:
    """A rule whose condition needs a `none` selection fires where its terms are absent, and
    `explain` and detection say the same (the examples are checked by detection at load)."""
    ruleset = detect.load_ruleset({"r.yaml": NONE_ONLY}, ALIASES)
    for text, fires in [
        ("North Korea fired a missile on Tuesday.", True),
        ("The army fired a simulated missile in a drill on Tuesday.", False),
    ]:
        item = DetectionInput("t", "", text, WEDNESDAY, dated=True)
        matches = detect.detect(ruleset, item)
        assert bool(matches) is fires
        assert detect.explain(ruleset, "launch", item).fired is fires


# (expected categories, title, text): news the article reports, and what it only recalls.
SALIENCE = [
    # The lede carries the news: a tenseless Chinese headline reports the launch...
    (
        ["missile_launch"],
        "朝鲜向东部海域发射弹道导弹",
        "韩国军方表示，朝鲜周三上午发射一枚弹道导弹。",
    ),
    # ...but deep in the body, an undated tenseless mention is context.
    (
        ["ministerial_meeting"],
        "",
        "日本外务大臣与韩国外交部长周三在东京举行了会谈。双方讨论了经济合作。会谈持续了两个小时。"
        "两国还谈到了地区局势。与此同时，朝鲜也加速试射导弹。",
    ),
    # A secondary event anchored in the cycle stays news, however deep.
    (
        ["missile_launch", "summit"],
        "",
        "President Lee and Prime Minister Takaichi held a summit in Tokyo on Wednesday. "
        "They discussed trade. They also discussed energy. "
        "Hours earlier, North Korea fired a ballistic missile into the East Sea on Wednesday.",
    ),
]

CUES = [
    # Proposals and bills are not sanctions adopted.
    ([], "Senator plans to introduce a sanctions bill against North Korea next month."),
    ([], "미국 하원은 북한에 대한 제재를 강화하는 법안을 발의할 계획이다."),
    ([], "美国提议联合国安理会对朝鲜实施更多制裁。"),
    # Adopted, imposed, decided: news.
    (["sanctions"], "日本政府は28日、北朝鮮の5団体を資産凍結の対象に加えることを決めました。"),
    (["sanctions"], "일본 정부는 28일 북한 단체 5곳의 자산을 동결하기로 결정했다."),
    (["sanctions"], "일본 정부는 28일 대북 독자제재로 북한 단체 5곳을 추가로 지정하기로 결정했다."),
    (["sanctions"], "国連安全保障理事会は28日、北朝鮮への制裁決議を全会一致で採択した。"),
    # Pushing for sanctions or agreeing to tighten them adopts none; an announced ban does,
    # and so do PRC countermeasures decided under its law.
    ([], "美国正在推动联合国安理会对朝鲜实施更多制裁。"),
    ([], "安保理、北朝鮮制裁強化で一致"),
    (
        ["sanctions"],
        "中国外務省は28日、米国の軍需企業3社の資産を凍結し、取引を禁止すると発表しました。",
    ),
    (["sanctions"], "中国政府は28日、米国の軍需企業2社に対抗措置を取ることを決定した。"),
    # Previews in Korean, Japanese and Chinese.
    ([], "한미 양국은 다음 달 서울에서 개최될 정상회담을 준비하고 있다."),
    ([], "米韓の合同軍事演習は来月から始まる。"),
    ([], "拜登将主持四国领导人峰会。"),
    ([], "两国外长定于下月举行会谈。"),
    # A drill's scenario launches nothing.
    ([], "The evacuation drill simulated a scenario in which a ballistic missile was launched."),
    ([], "訓練は弾道ミサイルが発射されたとの想定で行われた。"),
    # Statistics and "at the time" recall, they do not report.
    ([], "한미 외교장관회담은 지금까지 네 차례 개최됐다."),
    ([], "米国はこれまで北朝鮮の個人30人を制裁対象に指定した。"),
    # Progressive aspect, or a start today: under way.
    (["military_exercise"], "한미 해병대가 28일 포항에서 연합상륙훈련을 실시하고 있다."),
    (["military_exercise"], "미국과 한국 해병대가 오늘부터 포항에서 연합상륙훈련을 실시합니다."),
    (["military_exercise"], "米韓両軍はきょうから合同軍事演習を始めます。"),
    # A date after the topic dates the main predicate, not a modifier ("訪問先の").
    (
        ["ministerial_meeting"],
        "岸田外相は21日、訪問先のソウルで韓国の外相と会談し、協力の強化で一致した。",
    ),
    # An event told as an attribute of the state another action targets is recalled.
    (
        ["sanctions"],
        "6回目の核実験を強行した北朝鮮に対し、国連安保理は28日、制裁決議を全会一致で採択した。",
    ),
    ([], "미국 하원은 28일 핵실험을 강행한 북한에 대한 제재 법안을 통과시켰다."),
    (["nuclear_test"], "北朝鮮は28日、核実験を強行した。"),
    # Korean volitional future and scheduled non-past; a Japanese notice of a launch to come.
    ([], "북한은 다음 주 정찰위성을 발사하겠다고 일본에 통보했다."),
    ([], "제24차 한미 안보협의회의가 서울에서 개막된다."),
    ([], "北朝鮮は海上保安庁に、人工衛星を打ち上げると通報した。"),
    # 计划 as a noun (a programme) plans nothing; 方針 inside 中方针对 is no Japanese plan.
    (["sanctions"], "美国周三决定对参与朝鲜导弹计划的五名朝鲜人实施制裁。"),
    (["sanctions"], "中国外交部发言人周三表示，中方针对美方的军售采取了反制措施。"),
]


def test_salience_lede_against_deeper_context(ruleset: detect.RuleSet) -> None:
    for expected, title, text in SALIENCE:
        assert reported(ruleset, text, title) == expected, text


def test_plan_preview_and_tense_cues(ruleset: detect.RuleSet) -> None:
    for expected, text in CUES:
        assert reported(ruleset, text) == expected, text


def test_an_english_calendar_date_deep_in_an_undated_article_is_context(
    ruleset: detect.RuleSet,
) -> None:
    """English news names the past week's days by weekday: in an undated article, an event
    given its calendar date below the lede is older than the news."""
    text = (
        "The UN Security Council adopted new sanctions on North Korea on Friday. "
        "The vote was unanimous. Diplomats welcomed the text. "
        "North Korea fired an intercontinental ballistic missile on November 29."
    )
    matches = detect.detect(ruleset, DetectionInput("t", "", text, None, dated=False))
    assert sorted(detect.reported_categories(matches)) == ["sanctions"]
