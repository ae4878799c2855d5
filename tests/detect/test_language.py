"""How the shipped rules read news in four languages: what happened is reported, as news;
plans, threats, speculation, context and look-alikes are not. Each case is a sentence of the
kind regional news is written in (none is taken from the labelled corpus)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import detect
from core.model import DetectionInput

WEDNESDAY = datetime(2026, 1, 28, tzinfo=UTC)


def reported(ruleset: detect.RuleSet, text: str) -> list[str]:
    """The categories `text` reports as news (an article of Wednesday 28 January 2026)."""
    matches = detect.detect(ruleset, DetectionInput("t", "", text, WEDNESDAY, dated=True))
    return sorted(detect.reported_categories(matches))


NEWS = [
    (
        ["missile_launch"],
        (
            "North Korea fired a short-range ballistic missile into the "
            "sea off its east coast on Wednesday, South Korea's military "
            "said."
        ),
    ),
    (
        ["missile_launch"],
        "North Korea said it test-fired a new solid-fuel intercontinental ballistic missile.",
    ),
    (
        ["missile_launch"],
        (
            "Pyongyang launched several cruise missiles over the Yellow "
            "Sea early Tuesday, the Joint Chiefs of Staff said."
        ),
    ),
    (
        ["missile_launch"],
        (
            "Japan's Defense Ministry said the missile, launched at 7:10 "
            "a.m., fell outside Japan's exclusive economic zone."
        ),
    ),
    (
        ["missile_launch"],
        "North Korea fires ballistic missile toward East Sea",
    ),
    (
        ["missile_launch"],
        "북한이 28일 오전 동해상으로 탄도미사일 1발을 발사했다고 합동참모본부가 밝혔다.",
    ),
    (
        ["missile_launch"],
        "北朝鮮は28日朝、弾道ミサイル1発を日本海に向けて発射した。",
    ),
    (
        ["missile_launch"],
        "朝鲜28日上午向朝鲜半岛东部海域发射了一枚弹道导弹。",
    ),
    (
        ["nuclear_test"],
        (
            "North Korea conducted its seventh nuclear test on Tuesday, "
            "detonating a device at Punggye-ri."
        ),
    ),
    (
        ["nuclear_test"],
        "북한이 오늘 7차 핵실험을 실시했다고 조선중앙통신이 보도했다.",
    ),
    (
        ["ministerial_meeting"],
        (
            "South Korean Foreign Minister Cho Hyun met Japanese Foreign "
            "Minister Toshimitsu Motegi in Tokyo on Monday."
        ),
    ),
    (
        ["ministerial_meeting"],
        (
            "The defense ministers of South Korea, the United States and "
            "Japan held trilateral talks in Seoul on Tuesday."
        ),
    ),
    (
        ["ministerial_meeting"],
        "조현 외교부 장관은 27일 도쿄에서 모테기 도시미쓰 일본 외무상과 회담했다.",
    ),
    (
        ["ministerial_meeting"],
        "王毅外长27日在北京会见了韩国外长赵显。",
    ),
    (
        ["summit"],
        (
            "President Lee Jae-myung and Prime Minister Sanae Takaichi "
            "held summit talks in Seoul on Tuesday."
        ),
    ),
    (
        ["summit"],
        "Chinese President Xi Jinping met Russian President Vladimir Putin in Moscow on Monday.",
    ),
    (
        ["summit"],
        "이재명 대통령과 시진핑 국가주석은 27일 베이징에서 정상회담을 했다.",
    ),
    (
        ["summit"],
        "習近平国家主席は27日、北京でプーチン大統領と会談した。",
    ),
    (
        ["military_exercise"],
        (
            "South Korea and the United States kicked off their annual "
            "Freedom Shield exercise on Monday."
        ),
    ),
    (
        ["military_exercise"],
        (
            "China's military launched large-scale drills around Taiwan "
            "on Tuesday, the Eastern Theater Command said."
        ),
    ),
    (
        ["military_exercise"],
        "한미 양국 군은 27일부터 연합훈련에 돌입했다.",
    ),
    (
        ["military_exercise"],
        "中国人民解放军东部战区27日在台湾岛周边组织联合军事演习。",
    ),
    (
        ["sanctions"],
        "The U.S. Treasury imposed sanctions on five North Korean entities on Tuesday.",
    ),
    (
        ["sanctions"],
        (
            "Japan's cabinet approved new sanctions against North Korea "
            "on Tuesday, freezing the assets of 11 groups."
        ),
    ),
    (
        ["sanctions"],
        "정부는 27일 북한 개인 5명과 기관 3곳을 독자제재 대상으로 지정했다.",
    ),
    (
        ["sanctions"],
        "中国外交部27日宣布对美国10家军工企业采取反制措施。",
    ),
    (
        ["airspace_incursion"],
        (
            "Two Chinese and four Russian military aircraft entered South"
            " Korea's air defense identification zone on Tuesday."
        ),
    ),
    (
        ["airspace_incursion"],
        (
            "Taiwan's defense ministry said 20 Chinese military aircraft "
            "crossed the median line on Tuesday."
        ),
    ),
    (
        ["airspace_incursion"],
        "중국과 러시아 군용기 9대가 27일 카디즈에 진입했다가 이탈했다.",
    ),
    (
        ["airspace_incursion"],
        "中国軍機が27日、長崎県沖で日本の領空を侵犯した。",
    ),
    (
        ["maritime_incident"],
        (
            "A China Coast Guard ship fired water cannon at a Philippine "
            "supply boat near Second Thomas Shoal on Tuesday."
        ),
    ),
    (
        ["maritime_incident"],
        (
            "Four Chinese coast guard ships entered Japanese territorial "
            "waters near the Senkaku Islands on Tuesday."
        ),
    ),
    (
        ["maritime_incident"],
        "해경은 27일 서해 배타적경제수역에서 불법조업하던 중국 어선 2척을 나포했다.",
    ),
    (
        ["maritime_incident"],
        "尖閣諸島周辺で27日、中国海警局の船2隻が日本の領海に侵入した。",
    ),
    (
        ["missile_launch"],
        "South Korea's military said North Korea had fired two ballistic missiles on Wednesday.",
    ),
    (
        ["missile_launch"],
        (
            "North Korea's launch of an ICBM on Monday drew swift "
            "condemnation from Washington and Tokyo."
        ),
    ),
    (
        ["missile_launch"],
        "Japan's coast guard said North Korea has fired what could be a ballistic missile.",
    ),
    (
        ["missile_launch"],
        (
            "North Korea launched a reconnaissance satellite on Tuesday, "
            "but it exploded during the second stage, Seoul said."
        ),
    ),
    (
        ["missile_launch", "sanctions"],
        "The U.S. imposed new sanctions on Tuesday, a day after North Korea fired an ICBM.",
    ),
    (
        ["sanctions"],
        "The U.S. imposed new sanctions on Tuesday in response to last month's ICBM launch.",
    ),
    (
        ["nuclear_test"],
        (
            "North Korea appears to have conducted its seventh nuclear "
            "test on Tuesday, after an artificial quake was detected near"
            " Punggye-ri."
        ),
    ),
    (
        ["ministerial_meeting"],
        (
            "Japanese Defense Minister Gen Nakatani and U.S. Defense "
            "Secretary Pete Hegseth held talks in Tokyo on Sunday."
        ),
    ),
    (
        ["summit"],
        (
            "Prime Minister Takaichi and President Trump met in Tokyo on "
            "Tuesday and agreed to strengthen the alliance."
        ),
    ),
    (
        ["military_exercise"],
        (
            "The drills, involving 30 warships and 100 aircraft, "
            "continued for a third day on Wednesday."
        ),
    ),
    (
        ["military_exercise"],
        (
            "Japan and the U.S. conducted joint air drills over the Sea "
            "of Japan on Tuesday involving B-52 bombers."
        ),
    ),
    (
        ["sanctions"],
        (
            "The UN Security Council unanimously adopted a resolution "
            "imposing new sanctions on North Korea on Friday."
        ),
    ),
    (
        ["airspace_incursion"],
        (
            "Chinese and Russian bombers flew into Japan's air defense "
            "identification zone on Tuesday, prompting Japan to scramble "
            "fighter jets."
        ),
    ),
    (
        ["maritime_incident"],
        (
            "Chinese coast guard vessels rammed and boarded Philippine "
            "navy boats near Second Thomas Shoal on Monday."
        ),
    ),
    (
        ["missile_launch"],
        "북한, 동해상으로 탄도미사일 발사",
    ),
    (
        ["missile_launch"],
        "北朝鮮が弾道ミサイルを発射 EEZ外に落下か",
    ),
    (
        ["sanctions"],
        "日本政府は27日の閣議で、北朝鮮に対する独自制裁の延長を決定した。",
    ),
    (
        ["summit"],
        "岸田首相は27日、ソウルで尹大統領と首脳会談を行った。",
    ),
    (
        ["ministerial_meeting"],
        "韩国外交部长官赵显27日在北京与中国外交部长王毅举行会谈。",
    ),
    (
        ["missile_launch"],
        "北朝鮮は27日、「軍事偵察衛星」を搭載したロケットを発射したと発表した。",
    ),
    (
        ["missile_launch"],
        "북한이 27일 군사정찰위성을 탑재한 발사체를 남쪽 방향으로 발사했다고 합참이 밝혔다.",
    ),
    (
        ["missile_launch"],
        (
            "North Korea fired an intercontinental ballistic missile that"
            " landed in waters west of Hokkaido on Tuesday, Japan said."
        ),
    ),
    (
        ["missile_launch"],
        (
            "The Joint Chiefs of Staff said the missiles were fired from "
            "the Pyongyang area at around 7:50 a.m. Tuesday."
        ),
    ),
    (
        ["missile_launch"],
        "朝鲜周二向半岛东部海域发射了数枚短程弹道导弹，韩国联合参谋本部说。",
    ),
    (
        ["nuclear_test"],
        "北朝鮮が6回目の核実験を実施したと朝鮮中央テレビが報じた。",
    ),
    (
        ["ministerial_meeting"],
        "日韓外相会談が27日、東京で開かれた。",
    ),
    (
        ["ministerial_meeting"],
        "한미 국방장관은 27일 워싱턴에서 제57차 한미안보협의회의(SCM)를 개최했다.",
    ),
    (
        ["ministerial_meeting"],
        "中日韩外长会27日在韩国釜山举行。",
    ),
    (
        ["summit"],
        "日韓首脳会談が27日、ソウルで開かれた。",
    ),
    (
        ["summit"],
        "한일 정상회담이 27일 도쿄에서 열렸다.",
    ),
    (
        ["summit"],
        "习近平27日在北京同来访的韩国总统李在明举行会谈。",
    ),
    (
        ["military_exercise"],
        "日米は27日、東シナ海で共同訓練を実施した。",
    ),
    (
        ["military_exercise"],
        "한미 해군이 27일 동해에서 연합 해상훈련을 실시했다.",
    ),
    (
        ["military_exercise"],
        "中国人民解放军东部战区27日起在台湾岛周边开展联合演习。",
    ),
    (
        ["sanctions"],
        "米財務省は27日、北朝鮮の5団体を制裁対象に指定した。",
    ),
    (
        ["sanctions"],
        "미국 재무부는 27일 북한 개인 3명을 제재 대상으로 지정했다.",
    ),
    (
        ["sanctions"],
        "中国商务部27日宣布将美国10家企业列入不可靠实体清单。",
    ),
    (
        ["airspace_incursion"],
        "ロシア軍機2機が27日、北海道沖で日本の領空を侵犯した。",
    ),
    (
        ["airspace_incursion"],
        "중국 군용기 2대가 27일 KADIZ에 진입했다.",
    ),
    (
        ["airspace_incursion"],
        "国防部27日表示，共机12架次逾越海峡中线进入西南空域。",
    ),
    (
        ["maritime_incident"],
        "中国海警船2隻が27日、尖閣諸島周辺の領海に侵入した。",
    ),
    (
        ["maritime_incident"],
        "필리핀 해경선이 27일 남중국해에서 중국 해경선과 충돌했다.",
    ),
    (
        ["maritime_incident"],
        "中国海警27日在黄岩岛附近对菲律宾船只使用水炮驱离。",
    ),
    (["sanctions"], "The U.S. imposed sanctions over North Korea's missile program on Tuesday."),
    (
        ["airspace_incursion"],
        (
            "Over 20 Chinese military aircraft entered Taiwan's air defense "
            "identification zone, Taiwan's defense ministry said."
        ),
    ),
]


NOT_NEWS = [
    "North Korea is preparing to launch a military spy satellite, South Korean officials said.",
    "North Korea could test an ICBM in the coming weeks, analysts say.",
    "North Korea threatened to fire more missiles if the drills go ahead.",
    "The launch would be North Korea's first since November.",
    "Japan plans to launch its H3 rocket carrying a navigation satellite next month.",
    "China launched a Long March rocket carrying three astronauts to its space station.",
    "Rocket Lab launched an Electron rocket from New Zealand on Tuesday.",
    "The missile launch last month drew condemnation from the UN Security Council.",
    "North Korea has fired more than 30 missiles so far this year.",
    "The company launched a new missile-tracking software product on Monday.",
    "북한이 조만간 정찰위성을 발사할 것으로 예상된다.",
    "북한은 지난달에도 탄도미사일을 발사한 바 있다.",
    "北朝鮮が近く弾道ミサイルを発射する可能性があると防衛省は分析している。",
    "北朝鮮は先月も弾道ミサイルを発射していた。",
    "朝鲜可能在近期发射侦察卫星。",
    "中国27日在酒泉卫星发射中心用长征二号丙运载火箭成功发射一颗卫星。",
    "North Korea has completed preparations for a seventh nuclear test, Seoul said.",
    (
        "A 3.1 magnitude natural earthquake struck near North Korea's"
        " nuclear test site on Tuesday, officials said."
    ),
    "북한이 7차 핵실험을 할 가능성이 크다고 국정원이 밝혔다.",
    "South Korean Foreign Minister Cho Hyun will meet his Japanese counterpart in Tokyo next week.",
    "Foreign Minister Cho Hyun held a phone call with his Chinese counterpart Wang Yi on Monday.",
    "The Samsung board of directors held a meeting with shareholders on Tuesday.",
    "Vice foreign ministers of South Korea and Japan held talks in Seoul on Monday.",
    "President Lee Jae-myung will visit Beijing next week for a summit with Xi Jinping.",
    "The two leaders agreed to hold a summit at the earliest possible date.",
    "Tech leaders gathered at the AI Summit in Seoul on Tuesday.",
    "Pat Summitt coached Tennessee for 38 seasons.",
    "President Lee held a phone call with Prime Minister Takaichi on Monday.",
    "이재명 대통령은 다음 주 일본을 방문해 다카이치 총리와 정상회담을 할 예정이다.",
    "South Korea and the US will begin joint drills next week.",
    "Seoul and Washington agreed to resume large-scale joint exercises.",
    "Residents took part in a tsunami evacuation drill on Tuesday.",
    "Japan urged China to exercise restraint.",
    "한미는 다음 달 연합훈련을 실시할 예정이다.",
    "The U.S. is considering new sanctions on Chinese banks.",
    "The court sanctioned the attorney for misconduct.",
    "FIFA sanctioned the club for racist chanting.",
    "The ship was used to evade U.N. sanctions, the report said.",
    (
        "Japan scrambled jets 669 times in fiscal 2024 against "
        "Chinese aircraft, the Defense Ministry said."
    ),
    "The airline rerouted flights to avoid Russian airspace.",
    "The coast guard rescued 12 fishermen after their boat capsized off Jeju.",
    "Analysts said North Korea was expected to fire a missile around the anniversary.",
    "North Korea vowed to launch more reconnaissance satellites this year.",
    "North Korea's failed satellite launch in May was its first since 2016.",
    "The U.S. and South Korea held talks on North Korea's missile program on Tuesday.",
    "South Korea warned that North Korea could conduct a nuclear test at any moment.",
    "It has been seven years since North Korea's last nuclear test in September 2017.",
    (
        "Japanese Defense Minister Gen Nakatani is set to hold talks "
        "with U.S. Defense Secretary Pete Hegseth in Tokyo this "
        "weekend."
    ),
    "Defense Minister Koizumi told reporters on Tuesday that he was concerned about the launch.",
    (
        "Prime Minister Takaichi is expected to meet President Trump "
        "on the sidelines of the APEC summit next week."
    ),
    "The APEC CEO Summit opened in Gyeongju on Tuesday with business leaders.",
    "North Korea condemned last week's joint drills as a rehearsal for invasion.",
    "Police conducted a drill for a terror attack at Incheon airport on Tuesday.",
    "A draft resolution on new sanctions failed after Russia and China vetoed it.",
    "The EU is expected to adopt new sanctions next week.",
    "북한이 미사일 발사를 준비하고 있는 징후가 포착됐다.",
    "北朝鮮が弾道ミサイルを発射する構えを見せている。",
    "韓国政府は北朝鮮への独自制裁を検討している。",
    "岸田首相は来月訪韓し、尹大統領と会談する予定だ。",
    "韩国外交部长官赵显将于下月访华，与王毅举行会谈。",
    "한국형 발사체 누리호가 27일 전남 고흥 나로우주센터에서 발사됐다.",
    "JAXAは27日、H3ロケット5号機を種子島宇宙センターから打ち上げた。",
    "长征五号遥八运载火箭27日在文昌航天发射场点火升空。",
    "북한이 정찰위성 발사를 예고했다.",
    "The missile fired by North Korea in March flew about 1,000 km.",
    "Russia's use of North Korean missiles in Ukraine has worried Seoul.",
    "North Korea's Hwasong-19 was displayed at a military parade on Tuesday.",
    "北朝鮮は7回目の核実験の準備を終えたとみられる。",
    "朝鲜可能随时进行第七次核试验。",
    "日韓外相は来週、東京で会談する予定だ。",
    "양국 국방장관은 다음 달 서울에서 회담할 예정이다.",
    "한일 정상회담이 다음 달 열릴 예정이다.",
    "习近平将于下周对韩国进行国事访问。",
    "両首脳は電話会談を行った。",
    "한일 정상은 27일 전화 통화를 했다.",
    "한미는 다음 주 연합훈련을 시작할 예정이다.",
    "学校で27日、地震を想定した避難訓練が行われた。",
    "유엔 안보리는 대북 제재 결의안 채택을 검토하고 있다.",
    "韓国の裁判所は27日、選手に制裁を科した。",
    "航空自衛隊の緊急発進は今年度上半期に300回だった。",
    "해경은 27일 어선 화재 현장에서 선원 10명을 구조했다.",
    "If North Korea fires an ICBM, the United States will respond, officials said.",
    "Japan would shoot down the missile if North Korea fires one toward its territory.",
    "如果朝鲜进行核试验，中方将坚决反对。",
    "Over 30 missiles have been fired by North Korea so far this year.",
]


@pytest.mark.parametrize(("categories", "text"), NEWS)
def test_news_is_reported(ruleset: detect.RuleSet, categories: list[str], text: str) -> None:
    assert reported(ruleset, text) == sorted(categories)


@pytest.mark.parametrize("text", NOT_NEWS)
def test_plans_context_and_look_alikes_are_not_news(ruleset: detect.RuleSet, text: str) -> None:
    assert reported(ruleset, text) == []
