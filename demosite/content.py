"""The demo site's content, generated deterministically from a seed.

``build_site(seed)`` writes a few hundred French health-news articles with an
editorial "related news" block each. The text is built so that the editors' picks can
be learnt from it, without being trivial: each theme has its own vocabulary, each
article a few "focus" words from it, and editors pick mostly same-theme articles that
share focus words (with some judgement, i.e. random jitter), sometimes an article from
a neighbouring theme, and sometimes one that is only loosely related.

Only ``random.Random(seed)`` is used: the same seed always gives the same site.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from random import Random

from demosite import vocabulary as vocab

DEFAULT_SEED = 20261123
ARTICLE_COUNT = 360
RELATED_PER_ARTICLE = 4
FIRST_DAY = datetime(2015, 1, 1)
LAST_DAY = datetime(2025, 6, 30)

# How editors fill each slot of a related block: same theme, neighbouring theme, any.
PICK_SAME_THEME = 0.70
PICK_NEIGHBOUR = 0.15
# Random part of an editor's judgement, in units of shared focus words.
PICK_JITTER = 2.0

# Where the topic words of a sentence come from: the article's focus words, its theme,
# its rubrique, general health vocabulary.
SLOT_WEIGHTS = (0.50, 0.28, 0.12, 0.10)


@dataclass(frozen=True)
class Rubrique:
    """A section of the site, such as "Neurologie"."""

    slug: str
    name: str

    @property
    def path(self) -> str:
        return f"/news/{self.slug}/"


@dataclass(frozen=True)
class Theme:
    """A theme inside a rubrique, such as "Fibromyalgie" in "Neurologie"."""

    slug: str
    name: str
    rubrique: str
    determiner: str = "la "  # "la ", "le ", "l’", "les ": for "études sur la Migraine"
    related: tuple[str, ...] = ()  # theme slugs editors reach for across themes

    @property
    def path(self) -> str:
        return f"/themes/{self.slug}.htm"

    @property
    def phrase(self) -> str:
        """The theme with its determiner, as in a heading: "la Fibromyalgie"."""
        return self.determiner + self.name

    @property
    def text_phrase(self) -> str:
        """The theme as running text writes it: "la fibromyalgie"."""
        return self.determiner + self.name[0].lower() + self.name[1:]


@dataclass(frozen=True)
class RelatedItem:
    """One link of an article's related block: the path it points to and its anchor."""

    path: str
    title: str


@dataclass(frozen=True)
class DemoArticle:
    """One article of the demo site."""

    id: int
    slug: str
    rubrique: str
    theme: str
    title: str
    lead: str
    paragraphs: tuple[str, ...]
    sources: tuple[str, ...]
    published: datetime  # naive UTC
    related: tuple[RelatedItem, ...] = ()  # in the editors' order
    focus: tuple[str, ...] = ()  # the topic words the text was written around
    modified: datetime | None = None  # set when an editor corrects the article (tests)

    @property
    def last_changed(self) -> datetime:
        """When the page last changed: what the sitemap and Last-Modified say."""
        return self.modified or self.published

    @property
    def path(self) -> str:
        return article_path(self.rubrique, self.slug, self.id)

    @property
    def text(self) -> str:
        """Title, lead and body, as a recommender would read them."""
        return "\n".join((self.title, self.lead, *self.paragraphs))


@dataclass(frozen=True)
class DemoFaults:
    """The faults real sites have, planted at known places so tests can find them."""

    windows1252_path: str  # the one article served as windows-1252
    redirect_source: str  # article whose related block links to ``redirect_from``
    redirect_from: str  # an old path of an existing article: answers 301
    redirect_to: str  # the current path of that article (the ``Location``)
    dead_source: str  # article whose related block links to ``dead_path``
    dead_path: str  # an article path that answers 404
    dead_title: str  # anchor text of the dead link
    dead_published: datetime  # the age shown next to the dead link is computed from this


@dataclass(frozen=True)
class DemoSite:
    """The whole demo site: rubriques, themes, articles (oldest first) and faults."""

    seed: int
    rubriques: tuple[Rubrique, ...]
    themes: tuple[Theme, ...]
    articles: tuple[DemoArticle, ...]
    faults: DemoFaults

    @cached_property
    def _by_path(self) -> dict[str, DemoArticle]:
        return {article.path: article for article in self.articles}

    @cached_property
    def _by_id(self) -> dict[int, DemoArticle]:
        return {article.id: article for article in self.articles}

    def article_by_path(self, path: str) -> DemoArticle | None:
        """The article served at ``path``, or None."""
        return self._by_path.get(path)

    def article_by_id(self, article_id: int) -> DemoArticle | None:
        """The article with this id, or None."""
        return self._by_id.get(article_id)

    def rubrique(self, slug: str) -> Rubrique | None:
        """The rubrique with this slug, or None."""
        return next((r for r in self.rubriques if r.slug == slug), None)

    def theme(self, slug: str) -> Theme | None:
        """The theme with this slug, or None."""
        return next((t for t in self.themes if t.slug == slug), None)

    def newest(self, count: int | None = None) -> list[DemoArticle]:
        """Articles newest first, all of them or the first ``count``."""
        ordered = sorted(self.articles, key=lambda a: a.published, reverse=True)
        return ordered if count is None else ordered[:count]

    def rubrique_articles(self, slug: str) -> list[DemoArticle]:
        """A rubrique's articles, newest first."""
        return [a for a in self.newest() if a.rubrique == slug]

    def theme_articles(self, slug: str) -> list[DemoArticle]:
        """A theme's articles, newest first."""
        return [a for a in self.newest() if a.theme == slug]


def article_path(rubrique: str, slug: str, article_id: int) -> str:
    """The path of an article: ``/news/<rubrique>/<slug>_<id>.htm``."""
    return f"/news/{rubrique}/{slug}_{article_id}.htm"


def slugify(text: str, max_words: int = 12) -> str:
    """ASCII lowercase words joined by hyphens, accents folded: "Le cœur à 50 ans" -> ..."""
    # Apostrophes separate words ("l’allaitement" -> "l-allaitement"), they are not letters.
    text = re.sub(r"[’'`]", " ", text)
    text = text.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", folded.lower())
    return "-".join(words[:max_words])


def relative_age(published: datetime, now: datetime) -> str:
    """How old an article is, the way the site shows it: "il y a 8 années 4 mois".

    Whole years and months are counted on the calendar; an article less than a month
    old shows days instead ("il y a 12 jours"). ``now`` before ``published`` counts as 0.
    """
    months = (now.year - published.year) * 12 + (now.month - published.month)
    # A month is complete only once the same day and time of month is reached.
    if (now.day, now.time()) < (published.day, published.time()):
        months -= 1
    months = max(months, 0)
    years, months = divmod(months, 12)
    if years == 0 and months == 0:
        days = max((now - published).days, 0)
        return f"il y a {days} jour" if days <= 1 else f"il y a {days} jours"
    parts = []
    if years:
        parts.append(f"{years} année" if years == 1 else f"{years} années")
    if months:
        parts.append(f"{months} mois")
    return "il y a " + " ".join(parts)


#: How related blocks are filled: by editors, or by the usual CMS rule.
RELATED_MODES = (
    "editorial", "latest-same-rubrique", "latest-same-rubrique-served", "editorial-forward",
)  # fmt: skip
#: Size of an automatic ("latest-same-rubrique") related block.
AUTOMATIC_RELATED = 3


def build_site(seed: int = DEFAULT_SEED, related: str = "editorial") -> DemoSite:
    """Generate the whole demo site from ``seed``; the same seed gives the same site.

    ``related`` says how each article's related block is filled: ``"editorial"`` (the
    editors' picks, by topic) or ``"latest-same-rubrique"`` (what many CMSs do
    automatically: the :data:`AUTOMATIC_RELATED` newest older articles of the same
    rubrique, newest first), ``"latest-same-rubrique-served"`` (the rubrique's newest when
    the page is served, newer articles included: a block rendered on every request) or
    ``"editorial-forward"`` (editors' picks by topic among newer articles: a site whose
    pages are updated to point to what followed). The articles are the same every way.
    """
    if related not in RELATED_MODES:
        raise ValueError(f"related must be one of {RELATED_MODES}, got {related!r}")
    return _Builder(seed, related).build()


# --- generation -------------------------------------------------------------------


_CONTRACTIONS = (
    (re.compile(r"\b([Dd])e le "), r"\1u "),
    (re.compile(r"\b([Dd])e les "), r"\1es "),
    (re.compile(r"\b([àÀ]) le "), lambda m: "au " if m.group(1) == "à" else "Au "),
    (re.compile(r"\b([àÀ]) les "), lambda m: "aux " if m.group(1) == "à" else "Aux "),
)


_AGREEMENT = re.compile(r"\[([^|\]]*)\|([^\]]*)\]")


def _agree(template: str, subject: str) -> str:
    """Pick "[singular|plural]" verb forms to agree with ``subject`` ("les ..." = plural)."""
    plural = subject.startswith(("les ", "Les ", "des "))
    return _AGREEMENT.sub(lambda m: m.group(2 if plural else 1), template)


def _french(text: str) -> str:
    """Fix the contractions templates produce ("de le" -> "du") and capitalise."""
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    for index, char in enumerate(text):
        if char.isalpha():
            return text[:index] + char.upper() + text[index + 1 :]
    return text


def _next_of(picks: Iterator[str]) -> Callable[[re.Match[str]], str]:
    """A replacement for re.sub that takes the next of ``picks`` at each match."""
    return lambda _match: next(picks)


@dataclass
class _Draft:
    """An article while it is being written, before its related block is known."""

    id: int
    rubrique: str
    theme: str
    published: datetime
    focus: tuple[str, ...]
    title: str = ""
    lead: str = ""
    paragraphs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    related: list[RelatedItem] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def path(self) -> str:
        return article_path(self.rubrique, self.slug, self.id)


class _Builder:
    def __init__(self, seed: int, related: str = "editorial") -> None:
        self.seed = seed
        self.related = related
        self.rng = Random(seed)
        self.rubriques = tuple(Rubrique(slug, name) for slug, name, _ in vocab.RUBRIQUES)
        self.rubrique_words = {slug: words for slug, _, words in vocab.RUBRIQUES}
        self.themes = tuple(
            Theme(slug, name, rubrique, determiner, related)
            for slug, name, rubrique, determiner, related, _ in vocab.THEMES
        )
        self.theme_by_slug = {theme.slug: theme for theme in self.themes}
        self.theme_words = {slug: words for slug, *_, words in vocab.THEMES}
        self.titles: set[str] = set()

    def build(self) -> DemoSite:
        drafts = self._plan()
        for draft in drafts:
            self._write(draft)
        self._pick_related(drafts)  # always: the faults draw from the same random stream
        if self.related == "latest-same-rubrique":
            self._latest_same_rubrique(drafts)
        elif self.related == "latest-same-rubrique-served":
            self._latest_same_rubrique_served(drafts)
        faults = self._plant_faults(drafts)
        articles = tuple(
            DemoArticle(
                id=d.id,
                slug=d.slug,
                rubrique=d.rubrique,
                theme=d.theme,
                title=d.title,
                lead=d.lead,
                paragraphs=d.paragraphs,
                sources=d.sources,
                published=d.published,
                related=tuple(d.related),
                focus=d.focus,
            )
            for d in drafts
        )
        return DemoSite(self.seed, self.rubriques, self.themes, articles, faults)

    # -- planning: which article, which theme, when ------------------------------------

    def _plan(self) -> list[_Draft]:
        rng = self.rng
        # Themes are not equally popular, but each has enough articles to link within.
        weights = [rng.uniform(0.6, 1.4) for _ in self.themes]
        floor = 5
        labels = [theme.slug for theme in self.themes for _ in range(floor)]
        labels += rng.choices([t.slug for t in self.themes], weights, k=ARTICLE_COUNT - len(labels))
        rng.shuffle(labels)

        span = int((LAST_DAY - FIRST_DAY).total_seconds()) // 86400
        moments: set[datetime] = set()
        while len(moments) < ARTICLE_COUNT:
            day = FIRST_DAY + timedelta(days=rng.randrange(span + 1))
            # Newsrooms publish in the daytime.
            moments.add(day + timedelta(seconds=rng.randrange(6 * 3600, 21 * 3600)))
        dates = sorted(moments)

        drafts = []
        next_id = 2871
        for theme_slug, published in zip(labels, dates, strict=True):
            next_id += rng.randint(1, 6)  # ids grow with time, with gaps (deleted drafts)
            theme = self.theme_by_slug[theme_slug]
            drafts.append(
                _Draft(next_id, theme.rubrique, theme.slug, published, self._focus(theme))
            )
        return drafts

    def _focus(self, theme: Theme) -> tuple[str, ...]:
        rng = self.rng
        words = rng.sample(self.theme_words[theme.slug], rng.randint(3, 5))
        # Some articles straddle two themes: that is what cross-theme picks feed on.
        if rng.random() < 0.3:
            neighbour = rng.choice(theme.related)
            words[-1] = rng.choice(self.theme_words[neighbour])
        return tuple(words)

    # -- writing ------------------------------------------------------------------------

    def _write(self, draft: _Draft) -> None:
        rng = self.rng
        theme = self.theme_by_slug[draft.theme]
        draft.title = self._title(draft, theme)
        draft.lead = self._fill(rng.choice(vocab.LEAD_TEMPLATES), draft, theme, focus_first=True)
        templates = list(vocab.SENTENCE_TEMPLATES)
        rng.shuffle(templates)
        paragraphs = []
        for _ in range(rng.randint(4, 7)):
            sentences = [
                self._fill(templates.pop(), draft, theme) for _ in range(rng.randint(2, 4))
            ]
            paragraphs.append(" ".join(sentences))
        draft.paragraphs = tuple(paragraphs)
        draft.sources = tuple(self._source(draft) for _ in range(rng.randint(1, 3)))

    def _title(self, draft: _Draft, theme: Theme) -> str:
        rng = self.rng
        for _ in range(200):
            a, b = rng.sample(draft.focus, 2)
            template = _agree(rng.choice(vocab.TITLE_TEMPLATES), a)
            title = _french(
                template.format(A=a, B=b, T=theme.text_phrase, P=rng.choice(vocab.POPULATIONS))
            )
            if title not in self.titles:
                self.titles.add(title)
                return title
        raise RuntimeError(f"no unique title for article {draft.id}")  # pragma: no cover

    def _word(self, draft: _Draft) -> str:
        rng = self.rng
        source = rng.choices(range(4), SLOT_WEIGHTS)[0]
        if source == 0:
            return rng.choice(draft.focus)
        if source == 1:
            return rng.choice(self.theme_words[draft.theme])
        if source == 2:
            return rng.choice(self.rubrique_words[draft.rubrique])
        return rng.choice(vocab.GENERAL)

    def _fill(self, template: str, draft: _Draft, theme: Theme, focus_first: bool = False) -> str:
        rng = self.rng
        a = rng.choice(draft.focus) if focus_first else self._word(draft)
        b = self._word(draft)
        while b == a:
            b = self._word(draft)
        values = {
            "A": a,
            "B": b,
            "T": theme.text_phrase,
            "P": rng.choice(vocab.POPULATIONS),
            "I": rng.choice(vocab.INSTITUTIONS),
            "J": self._journal(draft),
            "E": rng.choice(vocab.EXPERTS),
            # A no-break space groups thousands, as French typography does (and cp1252 has it).
            "N": f"{rng.randint(40, 120) * 50:,}".replace(",", "\u00a0"),
            "K": str(rng.randint(6, 48)),
            "Y": str(rng.randint(2, 15)),
            "C": str(rng.randint(8, 45)),
            "R": rng.choice(self.rubrique_words[draft.rubrique]),
        }
        template = _agree(template, a)
        # {G} and {V} may occur several times in one template, each a different word.
        for slot, words in (("{G}", vocab.GENERAL), ("{V}", vocab.COVARIATES)):
            picks = iter(rng.sample(words, template.count(slot)))
            template = re.sub(re.escape(slot), _next_of(picks), template)
        return _french(template.format(**values))

    def _journal(self, draft: _Draft) -> str:
        rng = self.rng
        if rng.random() < 0.7:
            return rng.choice(vocab.JOURNALS[draft.rubrique])
        return rng.choice(vocab.GENERAL_JOURNALS)

    def _source(self, draft: _Draft) -> str:
        rng = self.rng
        journal = self._journal(draft)
        year = draft.published.year - rng.choice((0, 0, 1))
        words = [w for w in re.findall(r"[A-Za-z0-9]+", journal) if w not in ("of", "the", "and")]
        code = "".join(w[0] for w in words).lower() if len(words) > 1 else words[0].lower()
        doi = (
            f"10.{rng.choice(vocab.DOI_PREFIXES)}/j.{code}.{year}"
            f".{rng.randint(1, 12):02d}.{rng.randint(1, 999):03d}"
        )
        return f"{journal}, {year}, DOI: {doi}"

    # -- the editors' picks -------------------------------------------------------------

    def _pick_related(self, drafts: list[_Draft]) -> None:
        rng = self.rng
        for index, draft in enumerate(drafts):
            # drafts are in publication order, dates all distinct
            older = drafts[index + 1 :] if self.related == "editorial-forward" else drafts[:index]
            theme = self.theme_by_slug[draft.theme]
            focus = set(draft.focus)
            picked: list[_Draft] = []
            taken: set[int] = set()

            def best(candidates: list[_Draft], focus: set[str] = focus) -> _Draft | None:
                # Editors pick by shared topic, with their own judgement: never by date.
                scored = [
                    (len(focus & set(c.focus)) + rng.uniform(0, PICK_JITTER), c.id, c)
                    for c in candidates
                ]
                return max(scored)[2] if scored else None

            for _ in range(min(RELATED_PER_ARTICLE, len(older))):
                pool = [c for c in older if c.id not in taken]
                same = [c for c in pool if c.theme == draft.theme]
                near = [
                    c
                    for c in pool
                    if c.theme in theme.related
                    or (c.rubrique == draft.rubrique and c.theme != draft.theme)
                ]
                roll = rng.random()
                if roll < PICK_SAME_THEME:
                    choice = best(same) or best(near) or rng.choice(pool)
                elif roll < PICK_SAME_THEME + PICK_NEIGHBOUR:
                    choice = best(near) or best(same) or rng.choice(pool)
                else:
                    choice = rng.choice(pool)
                picked.append(choice)
                taken.add(choice.id)
            draft.related = [RelatedItem(c.path, c.title) for c in picked]

    @staticmethod
    def _latest_same_rubrique(drafts: list[_Draft]) -> None:
        """The automatic block: the newest older articles of the rubrique, newest first."""
        for index, draft in enumerate(drafts):
            older = [c for c in drafts[:index] if c.rubrique == draft.rubrique]
            picked = older[::-1][:AUTOMATIC_RELATED]
            draft.related = [RelatedItem(c.path, c.title) for c in picked]

    @staticmethod
    def _latest_same_rubrique_served(drafts: list[_Draft]) -> None:
        """The block as served today: the rubrique's newest articles, newer ones included."""
        for draft in drafts:
            others = [c for c in drafts if c.rubrique == draft.rubrique and c is not draft]
            picked = others[::-1][:AUTOMATIC_RELATED]
            draft.related = [RelatedItem(c.path, c.title) for c in picked]

    # -- faults -------------------------------------------------------------------------

    def _plant_faults(self, drafts: list[_Draft]) -> DemoFaults:
        rng = self.rng
        middle = drafts[len(drafts) // 4 : 3 * len(drafts) // 4]
        block = RELATED_PER_ARTICLE if self.related.startswith("editorial") else AUTOMATIC_RELATED
        full = [d for d in middle if len(d.related) == block]

        # 1. windows-1252: a page whose text shows what cp1252 has and latin-1 lacks.
        needed = ("é", "è", "à", "œ", "’", "«", "»")
        cp1252 = rng.choice(
            [d for d in full if all(ch in "\n".join((d.lead, *d.paragraphs)) for ch in needed)]
        )

        # 2. redirect: a block links to an old path (an earlier title) of its target.
        by_path = {d.path: d for d in drafts}
        source = rng.choice([d for d in full if d is not cp1252])
        position = rng.randrange(block)
        target = by_path[source.related[position].path]
        theme = self.theme_by_slug[target.theme]
        old_slug = target.slug
        while old_slug == target.slug:
            a, b = rng.sample(target.focus, 2)
            old_slug = slugify(
                _french(
                    _agree(rng.choice(vocab.TITLE_TEMPLATES), a).format(
                        A=a, B=b, T=theme.text_phrase, P="les patients"
                    )
                )
            )
        old_path = article_path(target.rubrique, old_slug, target.id)
        source.related[position] = RelatedItem(old_path, target.title)

        # 3. dead link: a block's last item points to an article since deleted.
        dead_source = rng.choice([d for d in full if d is not cp1252 and d is not source])
        used = {d.id for d in drafts}
        dead_id = rng.choice([i for i in range(drafts[0].id, dead_source.id) if i not in used])
        dead_theme = self.theme_by_slug[dead_source.theme]
        dead_draft = _Draft(
            dead_id,
            dead_source.rubrique,
            dead_source.theme,
            drafts[0].published,
            self._focus(dead_theme),
        )
        dead_title = self._title(dead_draft, dead_theme)
        older = [d.published for d in drafts if d.published < dead_source.published]
        dead_published = older[0] + (older[-1] - older[0]) * rng.random()
        dead_path = article_path(dead_source.rubrique, slugify(dead_title), dead_id)
        dead_source.related[-1] = RelatedItem(dead_path, dead_title)

        return DemoFaults(
            windows1252_path=cp1252.path,
            redirect_source=source.path,
            redirect_from=old_path,
            redirect_to=target.path,
            dead_source=dead_source.path,
            dead_path=dead_path,
            dead_title=dead_title,
            dead_published=dead_published.replace(microsecond=0),
        )
