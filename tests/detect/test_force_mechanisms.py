"""What forces do, as the rules read it in four languages (issue 10): exercises recognised from
live fire, combat-readiness patrols and bombers training with fighters, not from the word
"exercise" alone; launches kept when the sentence merely mentions a service, firm or exam;
detected artificial quakes as nuclear tests; and plans, scenarios, habits, context and natural
quakes kept out. Every sentence is written for this test (none comes from a corpus)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import detect
from core.model import DetectionInput

WEDNESDAY = datetime(2026, 1, 28, tzinfo=UTC)
FORCES = {
    "military_exercise",
    "missile_launch",
    "nuclear_test",
    "airspace_incursion",
    "maritime_incident",
}


def reported(ruleset: detect.RuleSet, text: str) -> list[str]:
    """The force categories `text` reports as news (an article of Wednesday 28 January 2026)."""
    matches = detect.detect(ruleset, DetectionInput("t", "", text, WEDNESDAY, dated=True))
    return sorted(set(detect.reported_categories(matches)) & FORCES)


# (category reported, sentence): the one force category the sentence reports as news.
NEWS = [
    ("military_exercise", "한미 해병대는 오늘부터 포항 일대에서 연합상륙훈련을 실시한다."),
    ("military_exercise", "美日从今天起在冲绳以南海域举行联合军演。"),
    ("missile_launch", "朝鲜向东部海域发射一枚弹道导弹，飞行了约800公里。"),
    ("missile_launch", "朝鲜周四尝试将一颗侦察卫星送入轨道，但以失败告终。"),
    (
        "military_exercise",
        "South Korean marines conducted a live-fire drill on Yeonpyeong Island on Tuesday.",
    ),
    ("military_exercise", "해병대는 27일 연평도에서 K9 자주포 실사격을 실시했다."),
    ("military_exercise", "陸上自衛隊は27日、北海道の演習場で実弾射撃を行った。"),
    ("military_exercise", "解放军东部战区27日在台湾周边组织海空联合战备警巡。"),
    ("military_exercise", "解放軍東部戰區27日在台灣周邊進行了實彈射擊。"),
    (
        "military_exercise",
        "U.S. B-52 bombers and South Korean F-35 fighters held combined air training on Tuesday.",
    ),
    (
        "military_exercise",
        "미 B-52 폭격기와 한국 공군 F-35A 전투기가 27일 연합공중훈련을 실시했다.",
    ),
    (
        "military_exercise",
        "航空自衛隊のF15戦闘機と米軍のB52爆撃機が27日、日本海上空で共同訓練を行った。",
    ),
    ("military_exercise", "中国轰炸机与俄罗斯战机27日在日本海上空举行了联合空中训练。"),
    ("military_exercise", "한미 해병대가 포항 일대에서 연합상륙훈련을 실시하고 있다."),
    ("military_exercise", "日米の共同訓練が沖縄県で行われている。"),
    ("military_exercise", "Marine artillery units held a live-fire training session on Tuesday."),
    ("military_exercise", "한미 공군 조종사들이 27일 연합공중훈련을 마친 뒤 기지로 복귀했다."),
    ("military_exercise", "朝鲜宣布在美韩联合军演之前进行了实弹射击。"),
    (
        "missile_launch",
        "North Korea launched a ballistic missile on Tuesday, disrupting the entrance exam.",
    ),
    ("missile_launch", "North Korea fired two cruise missiles on Tuesday, a defense firm said."),
    (
        "missile_launch",
        "North Korea fired a ballistic missile on Tuesday, the weather service said.",
    ),
    (
        "missile_launch",
        "North Korea launched a ballistic missile on Tuesday that flew over a gas platform.",
    ),
    ("missile_launch", "北朝鮮は27日にも弾道ミサイルを発射していて、警戒が続いている。"),
    (
        "nuclear_test",
        "기상청은 28일 길주 부근에서 인공지진으로 추정되는 규모 5.0의 지진이 발생했다고 밝혔다.",
    ),
    ("nuclear_test", "気象庁は28日、北朝鮮付近で人工地震とみられる揺れを観測した。"),
    ("nuclear_test", "中国地震台网28日监测到朝鲜发生疑似人工地震。"),
    ("nuclear_test", "中國地震台網28日監測到北韓發生疑似人工地震。"),
    (
        "nuclear_test",
        "North Korea announced on Wednesday that it had successfully tested a hydrogen bomb.",
    ),
    ("nuclear_test", "北韓今天宣布氫彈試爆成功。"),
    ("nuclear_test", "북한은 28일 수소폭탄 실험을 실시했다고 발표했다."),
    ("nuclear_test", "北朝鮮は28日、水素爆弾（水爆）の実験に成功したと発表した。"),
    ("airspace_incursion", "中共军机27日飞入台湾西南防空识别区。"),
]

# Sentences that report no force event as news: civil drills, scenarios, plans, threats,
# conditions, habits, context, warning-data sharing, natural quakes and business launches.
NOT_NEWS = [
    "北韩的导弹试射也都已停止。",
    "日方关切中国在台湾周边举行的大规模军演。",
    "北韓軍方回應美韓聯合空中軍演，進行了反制行動。",
    "Students held a fire drill at the school on Tuesday.",
    "The team held a training session on Tuesday.",
    "米韓は15日から始まる合同軍事演習の準備を進めている。",
    "特朗普称将停止美韩联合军演。",
    "國防部27日偵獲共機10架次、共艦6艘持續在台海周邊活動。",
    "Samsung launched a new streaming service on Tuesday.",
    "The startup launched its missile-tracking platform on Tuesday.",
    "The evacuation drill assumed a scenario in which a ballistic missile was launched.",
    "弾道ミサイルが発射されたと想定した住民の避難訓練が27日、行われた。",
    "탄도미사일 발사를 가정한 주민 대피훈련이 27일 실시됐다.",
    "Seoul, Tokyo and Washington began real-time sharing of missile warning data.",
    "三国开始实时共享有关朝鲜导弹发射的预警信息。",
    "北朝鮮は先月下旬、短距離弾道ミサイル2発を発射した。",
    "北朝鮮が前回弾道ミサイルを発射したのは昨年11月だった。",
    "朝鲜近来频频试射导弹。",
    "他们批评朝鲜发射弹道导弹违反安理会决议。",
    "The talks follow North Korea's recent missile launches.",
    "北朝鮮は27日、人工衛星を打ち上げると海上保安庁に通報した。",
    "朝鲜威胁将重启洲际弹道导弹试射。",
    "A magnitude 2.5 natural earthquake struck near the Punggye-ri test site on Wednesday.",
    "기상청은 이번 지진이 인공지진이 아닌 자연지진이라고 밝혔다.",
    "North Korea could conduct a nuclear test at any time, officials warned.",
    "북한은 언제든 7차 핵실험을 강행할 수 있다.",
    "North Korea marked the anniversary of its first nuclear test on Wednesday.",
    "若朝鲜强行实施核试验，美国将派航母赴日本海。",
    "기상청은 이번 지진이 2017년 6차 핵실험의 여파라고 분석했다.",
    "韓国の情報機関は、北朝鮮が7回目の核実験を行う必要性が高まっているとの分析を示した。",
    "共軍近年頻以戰機侵擾台灣防空識別區。",
    "觀察重點是中國海警船是否闖入金門限制水域。",
]


@pytest.mark.parametrize(("category", "text"), NEWS)
def test_force_event_is_reported_alone(ruleset: detect.RuleSet, category: str, text: str) -> None:
    """The event is news, and the same activity does not also come out as another force event
    (a bomber drill is no airspace incursion, a live-fire drill no missile launch)."""
    assert reported(ruleset, text) == [category]


@pytest.mark.parametrize("text", NOT_NEWS)
def test_no_force_event_is_reported(ruleset: detect.RuleSet, text: str) -> None:
    """Nothing in the sentence is a force event that happened in the news cycle."""
    assert reported(ruleset, text) == []
