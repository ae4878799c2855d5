"""Realistic synthetic news articles and feeds for the benchmarks.

Each article is ~3 KB of English news prose about the region: mostly neutral sentences (economy,
diplomacy, weather, culture, courts) built from templates and a varied vocabulary, with event
sentences taken from the shipped rules' own examples (launches, meetings, summits, sanctions,
drills...) mixed in for a share of the articles, and product "launches" or fired employees as
distractors. Article `n` depends only on (seed, n), so any slice can be generated on its own, in
any process, without holding the others in memory.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

import yaml

TARGET_BYTES = 3000
EPOCH = date(2026, 1, 1)
SPAN_DAYS = 120  # publication dates spread over four months, as a feed archive would be

PLACES = (
    "Seoul", "Tokyo", "Beijing", "Taipei", "Pyongyang", "Busan", "Osaka", "Shanghai", "Kaohsiung",
    "Incheon", "Nagoya", "Sapporo", "Fukuoka", "Hong Kong", "Manila", "Ulaanbaatar", "Vladivostok",
    "Okinawa", "Jeju", "Daegu", "Gwangju", "Sendai", "Kyoto", "Tainan", "Shenzhen", "Guangzhou",
)  # fmt: skip
AGENCIES = ("Yonhap", "Kyodo", "Xinhua", "CNA", "IANS", "AFP", "Jiji", "NHK", "KBS", "Nikkei")
ORGS = (
    "the central bank", "the finance ministry", "the statistics office", "the trade ministry",
    "the health ministry", "the education ministry", "the weather agency", "the port authority",
    "the national railway", "the city council", "the consumer agency", "the energy regulator",
    "a leading think tank", "the chamber of commerce", "the farmers' union", "the supreme court",
    "the election commission", "the tourism board", "the labour ministry", "the fisheries agency",
)  # fmt: skip
SUBJECTS = (
    "exports", "household debt", "consumer prices", "the semiconductor industry", "rice prices",
    "the housing market", "youth unemployment", "tourist arrivals", "the birth rate",
    "electricity demand", "shipbuilding orders", "the stock index", "the currency", "wage growth",
    "steel output", "retail sales", "the budget deficit", "battery makers", "container traffic",
    "the ageing population", "online shopping", "hospital waiting lists", "teacher shortages",
    "public transport fares", "fishing quotas", "air quality", "the property tax", "car sales",
)  # fmt: skip
TRENDS = (
    "rose", "fell", "edged up", "slipped", "climbed", "declined", "stabilised", "surged",
    "rebounded", "stagnated", "eased", "accelerated", "slowed", "held steady",
)  # fmt: skip
ADJECTIVES = (
    "modest", "sharp", "unexpected", "gradual", "steady", "record", "seasonal", "broad",
    "cautious", "notable", "limited", "sustained", "uneven", "rapid", "moderate", "slight",
)  # fmt: skip
REASONS = (
    "weaker demand from overseas buyers", "a cold snap that kept shoppers at home",
    "higher borrowing costs", "a rush of orders before the holidays", "a strike at two plants",
    "changes to the tax code", "cheaper imported fuel", "a recovery in regional tourism",
    "new subsidies for first-time buyers", "delays at the main container terminal",
    "a shortage of skilled workers", "stronger sales of memory chips",
    "heavy snowfall in the north",
    "a revised accounting rule", "the end of a government rebate scheme",
)  # fmt: skip
PEOPLE_ROLES = (
    "an economist at a local bank", "a spokesperson for the ministry", "a senior researcher",
    "the mayor", "a union representative", "an industry analyst", "a university professor",
    "a retired diplomat", "the company's chief executive", "a shop owner in the old market",
)  # fmt: skip
TOPICS = (
    "a new high-speed rail link", "the annual lantern festival", "a museum exhibition of ceramics",
    "the opening of a children's hospital", "a debate on pension reform", "a film festival",
    "a marathon through the old town", "plans for a new airport terminal", "a food safety review",
    "a national baseball final", "a heatwave warning", "river flood defences",
    "a cyber-security law",
    "a local election", "a bridge renovation", "a recycling programme", "a regional trade fair",
)  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

NOUNS = (
    "budget", "contract", "factory", "harbour", "bridge", "school", "clinic", "museum", "festival",
    "market", "survey", "pension", "subsidy", "tariff", "license", "warehouse", "pipeline", "dam",
    "railway", "terminal", "stadium", "library", "campus", "orchard", "vineyard", "bakery",
    "shipyard", "laboratory", "startup", "merger", "dividend", "bond", "loan", "mortgage", "rent",
    "wage", "pension fund", "harvest", "drought", "typhoon", "heatwave", "landslide", "earthquake",
    "census", "referendum", "petition", "lawsuit", "verdict", "appeal", "inquiry", "audit",
    "regulation", "ordinance", "permit", "zoning plan", "bus route", "ferry service", "airline",
    "airport", "highway", "tunnel", "reservoir", "power plant", "wind farm", "solar park",
    "battery plant", "chip line", "data centre", "app", "platform", "streaming service",
    "newspaper", "broadcaster", "orchestra", "theatre", "gallery", "novel", "exhibition", "concert",
    "tournament", "league", "marathon", "team", "coach", "striker", "pitcher", "umpire", "fan club",
    "price index", "export order", "import quota", "trade deficit", "current account", "inflation",
    "interest rate", "credit rating", "housing loan", "tax credit", "childcare centre",
    "nursing home",
    "vaccine", "hospital ward", "waiting list", "pharmacy", "recycling plant", "landfill", "sewer",
    "water main", "street market", "night market", "shopping arcade", "department store",
    "convenience store", "delivery app", "ride-hailing service", "taxi fare", "parking fee",
)  # fmt: skip
VERBED = (
    "approved", "rejected", "postponed", "expanded", "reduced", "renovated", "reopened", "closed",
    "upgraded", "reviewed", "audited", "criticised", "praised", "questioned", "funded", "doubled",
    "halved", "replaced", "relocated", "restructured", "privatised", "digitised", "simplified",
    "extended", "shortened", "priced", "redesigned", "inspected", "certified", "licensed",
    "recalled", "merged", "acquired", "listed", "delisted", "subsidised", "taxed", "capped",
    "raised", "lowered", "frozen", "unveiled", "previewed", "exhibited", "staged", "hosted",
    "sponsored", "broadcast", "streamed", "published", "translated", "restored", "rebuilt",
)  # fmt: skip
ADVERBS = (
    "sharply", "slightly", "steadily", "quietly", "abruptly", "gradually", "unexpectedly",
    "narrowly", "largely", "partly", "temporarily", "permanently", "formally", "informally",
)  # fmt: skip
ROLES = (
    "chief economist", "spokeswoman", "spokesman", "director", "researcher", "professor",
    "mayor", "councillor", "union leader", "analyst", "chief executive", "founder", "curator",
    "head coach", "principal", "chief judge", "district officer", "planner", "engineer",
)  # fmt: skip
COMPANY_KINDS = (
    "Holdings", "Group", "Electronics", "Logistics", "Foods", "Motors", "Pharma", "Securities",
    "Insurance", "Shipping", "Textiles", "Chemicals", "Robotics", "Media", "Construction",
)  # fmt: skip
_ONSETS = ("b", "ch", "d", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "sh", "t", "w", "y")
_VOWELS = ("a", "e", "i", "o", "u", "ae", "eo", "ou", "ya", "yo", "ai")
_CODAS = ("", "", "n", "ng", "m", "k", "l")

NEUTRAL = (
    "{Org} said on {day} that {subject} {trend} by {pct} percent in {month}, a {adj} change.",
    "{Subject} {trend} for a {ordinal} straight month, {org} said, citing {reason}.",
    "According to {person}, the {adj} shift in {subject} reflects {reason}.",
    "Officials in {place} expect {subject} to remain {adj2} through the rest of the quarter.",
    "The figures, released in {place} on {day}, were broadly in line with forecasts.",
    "{Person} said the outlook for {subject} depends largely on {reason}.",
    "Residents of {place} turned out in large numbers for {topic} over the weekend.",
    "Local media in {place} devoted much of their coverage to {topic}.",
    "{Org} plans to publish revised estimates for {subject} next month.",
    "Analysts said {subject} could {verb2} further if {reason2} persists.",
    "The debate over {topic} has divided lawmakers in {place} for months.",
    "Tickets for {topic} sold out within {num} minutes, organisers in {place} said.",
    "In {place}, {num} volunteers helped prepare {topic}, according to {org}.",
    "{Person} described the {adj} trend in {subject} as a sign of {reason}.",
    "The report noted a {adj} difference between {place} and {place2} in {subject}.",
    "Shares of {num2} listed companies in {place} moved after the data on {subject} came out.",
    "Weather forecasters warned of {adj} rain in {place} and {place2} later this week.",
    "A court in {place} will rule on {topic} after hearing from {num} witnesses.",
    "Commuters in {place} faced delays of up to {num} minutes because of {reason}.",
    "The ministry's statement made no mention of {topic}, which critics had raised.",
    "{Company} {verbed} its {noun} in {district} after {reason}.",
    "{Name}, {role} at {company}, said the {noun} had {verbed} {adverb} since {month}.",
    "The {noun} in {district} was {verbed} on {day}, {name} told reporters in {place}.",
    "Shares of {company} {trend} {pct} percent after the firm {verbed} a {noun}.",
    "{Name} of {company} expects the {noun} to be {verbed} before the end of {month}.",
    "Residents of {district} {verbed} a {noun} that would cost {num} million won.",
    "A {adj} {noun} near {district} drew {num} visitors, organisers said.",
    "{Company} and {company2} {verbed} a {noun} worth {num} billion yen.",
    "Local officials {adverb} {verbed} the {noun}, {name} wrote in a statement.",
    "Critics, including {name}, said the {noun} was {verbed} without a public hearing.",
    "The {noun} at {district} will be {verbed} next year, {org} said.",
    "{Name}, a {role} who has studied the {noun} for years, called the decision {adj}.",
    "Demand for the {noun} {trend} {adverb} in {place} as {reason} weighed on households.",
    "The {noun} run by {company} in {district} employs {num} people.",
    "Asked about the {noun}, {name} declined to comment on {topic}.",
    "In {district}, a {adj} {noun} replaced the old {noun2} last {month}.",
    "{Company} {verbed} {num} {noun} contracts this quarter, up from {num2} a year earlier.",
    "{Name} said {company} had {verbed} the {noun} twice since {month}.",
    "The council in {place} {verbed} a {noun} for {district} by {num} votes to {num2}.",
    "Viewers in {place} watched {topic} on a {noun} set up by {company}.",
)  # fmt: skip
# Sentences that use rule words in senses no rule should report (the hard negatives of feeds).
DISTRACTORS = (
    "A smartphone maker in {place} will launch its new model on {day}.",
    "The coach was fired after a string of defeats, the club said.",
    "Students in {place} will sit the national exam on {day}.",
    "The company launched an investigation into the data leak.",
    "A film about the war will launch at the festival in {place}.",
    "Fireworks lit up the harbour in {place} for the new year.",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SyntheticArticle:
    """One generated article. `events` lists the categories whose example sentences it holds."""

    guid: str
    title: str
    published: date
    place: str
    agency: str
    body: str
    events: tuple[str, ...]

    def seed_text(self) -> str:
        """The article as a seed file: date header, headline, dateline, body."""
        day = self.published
        dateline = f"{self.place}, {day:%b} {day.day} ({self.agency}) --"
        return f"date: {day.isoformat()}\n{self.title}\n\n{dateline} {self.body}\n"

    def rss_item(self, base_url: str) -> str:
        """The article as an RSS 2.0 <item> (paragraphs as HTML in <description>)."""
        published = datetime(self.published.year, self.published.month, self.published.day, 9)
        html = "".join(f"<p>{escape(p)}</p>" for p in self.body.split("\n\n"))
        return (
            "<item>"
            f"<title>{escape(self.title)}</title>"
            f"<link>{escape(base_url)}/news/{self.guid}</link>"
            f'<guid isPermaLink="false">{self.guid}</guid>'
            f"<pubDate>{format_datetime(published.replace(tzinfo=UTC))}</pubDate>"
            f"<description>{escape(html)}</description>"
            "</item>"
        )


@dataclass(frozen=True, slots=True)
class EventSentence:
    """An example sentence of a rule, to be mixed into neutral prose."""

    category: str
    text: str


@cache
def event_sentences(rules_dir: str) -> tuple[EventSentence, ...]:
    """The positive, planned and background examples of the rule files (English only: the
    synthetic articles are English news). Read from the YAML directly, so generating articles
    does not depend on the rules compiling."""
    found = []
    for path in sorted(Path(rules_dir).glob("*.yaml")):
        if path.name.startswith(("entities", "common")):
            continue
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for rule in document if isinstance(document, list) else [document]:
            examples = rule.get("examples") or {}
            for kind in ("positive", "planned", "background"):
                found += [
                    EventSentence(rule.get("category", rule.get("id", "")), text)
                    for text in examples.get(kind) or []
                    if isinstance(text, str) and text.isascii()
                ]
    return tuple(found)


class ArticleGenerator:
    """Deterministic article generator: `article(n)` is the same for the same seed and n.

    `event_share` of the articles report one or two of a small pool of events (`event_slots`
    pairs of a rule example and an event day): as in real news, several outlets report each
    event over the following days, so developments stay few while articles grow.
    """

    def __init__(
        self,
        events: Sequence[EventSentence],
        seed: int = 1,
        event_share: float = 0.15,
        event_slots: int = 60,
        target_bytes: int = TARGET_BYTES,
    ) -> None:
        self.events = tuple(events)
        self.seed = seed
        self.event_share = event_share
        self.target_bytes = target_bytes
        pool = random.Random(f"{seed}:slots")
        self.slots = tuple(
            (pool.choice(self.events), EPOCH + timedelta(days=pool.randrange(SPAN_DAYS - 3)))
            for _ in range(event_slots if self.events else 0)
        )

    def article(self, n: int) -> SyntheticArticle:
        """Article number `n`."""
        rng = random.Random(f"{self.seed}:{n}")
        place = rng.choice(PLACES)
        chosen: list[EventSentence] = []
        published = EPOCH + timedelta(days=rng.randrange(SPAN_DAYS))
        if self.slots and rng.random() < self.event_share:
            picked = rng.sample(self.slots, k=rng.randint(1, 2))
            chosen = [event for event, _ in picked]
            published = picked[0][1] + timedelta(days=rng.randint(0, 2))
        slots = _Slots(rng)
        sentences = [rng.choice(NEUTRAL).format_map(slots.fresh()) for _ in range(3)]
        body_len = sum(len(s) + 1 for s in sentences)
        while body_len < self.target_bytes * rng.uniform(0.9, 1.1):
            template = rng.choice(DISTRACTORS) if rng.random() < 0.04 else rng.choice(NEUTRAL)
            sentence = template.format_map(slots.fresh())
            sentences.append(sentence)
            body_len += len(sentence) + 1
        for event in chosen:  # events land anywhere but the lead, as in real reports
            sentences.insert(rng.randrange(1, len(sentences)), event.text)
        title = chosen[0].text.rstrip(".") if chosen else _title(rng, place)
        digest = hashlib.sha1(f"{self.seed}:{n}".encode()).hexdigest()[:10]
        return SyntheticArticle(
            guid=f"bench-{n:07d}-{digest}",
            title=title[:140],
            published=published,
            place=place,
            agency=rng.choice(AGENCIES),
            body=_paragraphs(rng, sentences),
            events=tuple(e.category for e in chosen),
        )

    def articles(self, start: int, stop: int) -> Iterator[SyntheticArticle]:
        """Articles number `start` to `stop - 1`, one at a time."""
        for n in range(start, stop):
            yield self.article(n)


_CHOICES: dict[str, tuple[str, ...]] = {
    "org": ORGS,
    "person": PEOPLE_ROLES,
    "subject": SUBJECTS,
    "trend": TRENDS,
    "verb2": ("rise", "fall", "recover", "weaken", "stall"),
    "adj": ADJECTIVES,
    "adj2": ADJECTIVES,
    "reason": REASONS,
    "reason2": REASONS,
    "place": PLACES,
    "place2": PLACES,
    "topic": TOPICS,
    "day": DAYS,
    "month": ("January", "February", "March", "April"),
    "ordinal": ("second", "third", "fourth", "fifth"),
    "noun": NOUNS,
    "noun2": NOUNS,
    "verbed": VERBED,
    "adverb": ADVERBS,
    "role": ROLES,
}


def pseudo_word(rng: random.Random, syllables: int) -> str:
    """A pronounceable made-up name ("Hanbeo", "Sorimyong"): news is full of names no list
    holds, and they keep texts from sharing every phrase."""
    word = "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
    )
    return word.capitalize()


@cache
def made_up_names(count: int = 4000) -> dict[str, tuple[str, ...]]:
    """Pools of made-up people, companies and districts (the same for every run): drawing from
    pools is far cheaper than composing a new name per sentence."""
    rng = random.Random("made-up names")
    return {
        "name": tuple(
            f"{pseudo_word(rng, rng.randint(1, 2))} {pseudo_word(rng, rng.randint(2, 3))}"
            for _ in range(count)
        ),
        "company": tuple(
            f"{pseudo_word(rng, rng.randint(2, 3))} {rng.choice(COMPANY_KINDS)}"
            for _ in range(count // 2)
        ),
        "district": tuple(f"{pseudo_word(rng, 2)} district" for _ in range(count // 4)),
    }


_MADE_UP_SLOTS = {
    "name": "name",
    "company": "company",
    "company2": "company",
    "district": "district",
}


class _Slots(dict):
    """Template slots drawn lazily, only those a sentence uses (a capitalised name gives the
    same value with a capital first letter): generation stays cheap."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def fresh(self) -> _Slots:
        """Forget the values drawn for the previous sentence."""
        self.clear()
        return self

    def __missing__(self, key: str) -> str:
        lower = key[0].lower() + key[1:]
        if lower in _MADE_UP_SLOTS:
            value = self.rng.choice(made_up_names()[_MADE_UP_SLOTS[lower]])
        elif lower in _CHOICES:
            value = self.rng.choice(_CHOICES[lower])
        elif lower == "pct":
            value = f"{self.rng.uniform(0.1, 9.9):.1f}"
        else:  # num, num2
            value = str(self.rng.randint(3, 900))
        value = value[0].upper() + value[1:] if key[0].isupper() else value
        self[key] = value
        return value


def _title(rng: random.Random, place: str) -> str:
    subject = rng.choice(SUBJECTS)
    return f"{subject[0].upper() + subject[1:]} {rng.choice(TRENDS)} in {place}"


def _paragraphs(rng: random.Random, sentences: list[str]) -> str:
    """Sentences grouped into paragraphs of two to five."""
    paragraphs, i = [], 0
    while i < len(sentences):
        size = rng.randint(2, 5)
        paragraphs.append(" ".join(sentences[i : i + size]))
        i += size
    return "\n\n".join(paragraphs)


def rss_feed(title: str, base_url: str, items: Sequence[SyntheticArticle]) -> bytes:
    """An RSS 2.0 document holding `items`."""
    body = "".join(item.rss_item(base_url) for item in items)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(base_url)}</link>"
        f"<description>Synthetic feed for Watchfloor benchmarks</description>{body}"
        "</channel></rss>"
    ).encode()


def write_seed_files(generator: ArticleGenerator, folder: Path, start: int, stop: int) -> int:
    """Write articles `start`..`stop - 1` as seed files into `folder`; return bytes written."""
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for n, article in enumerate(generator.articles(start, stop), start):
        data = article.seed_text().encode()
        (folder / f"{n:07d}.txt").write_bytes(data)
        total += len(data)
    return total
