"""Editors' rules and a freshness window, applied to any model's ranked lists.

A site shows the model's lists only after its editors have had their say: a *pin* puts a
target first in one source's list whatever the model thinks, a *block* keeps a target
out of one source's list, or out of every list (source ``'*'``). A block may also name
*scopes* instead of articles, on either side: ``rubrique:NAME``, ``tag:NAME`` or
``url:PATTERN`` (a glob on the URL's path, or a part of the path when it has no wildcard),
as in "never suggest anything from ``url:/cancer/`` for ``url:/sport/`` pages". A
freshness window keeps only targets published at most N days before the source.

Pure functions over :class:`~recommender.suggestion.Suggestion` lists: no archive, so
any recommender with ``recommend_all``/``recommend_text`` fits. :func:`related_lists`
builds the lists readers see (deepening a model's list until the rules leave ``k``);
:func:`check_rule` holds what a pin or block may be.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
import re
import time
from collections.abc import Callable, Container, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from warehouse.model import ArticleFacts

from .suggestion import Suggestion

__all__ = [
    "ANY_SOURCE",
    "BLOCK",
    "SCOPE_KINDS",
    "ArticleFacts",
    "PIN",
    "NotFitted",
    "RelatedArticle",
    "RuleError",
    "RuledSuggestion",
    "Rules",
    "apply_rules",
    "check_rule",
    "fresh_since",
    "parse_scope",
    "published_times",
    "related_lists",
    "ruled_lists",
    "scope_matches",
    "scope_suggestion",
    "shown",
]

PIN = "pin"
BLOCK = "block"
#: The source of a block that holds for every list.
ANY_SOURCE = "*"

DAY = 86400.0


@dataclass(frozen=True)
class RuledSuggestion(Suggestion):
    """A suggestion as shown: ``pinned`` when an editor put it there.

    A pinned target the model did not rank has ``score`` NaN and no shared terms;
    ``backfill`` marks a target that fills a list the model left short (see
    :mod:`recommender.backfill`).
    """

    pinned: bool = False
    backfill: bool = False


#: What a scoped block may name: a section, a tag, or a pattern of URLs.
SCOPE_KINDS = ("rubrique", "tag", "url")


_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def parse_scope(text: str) -> tuple[str, str] | None:
    """``(kind, value)`` of a scope (``rubrique:Sport``), None for anything else (an
    article's URL, ``'*'``); ValueError for a scope with no value."""
    kind, sep, value = text.partition(":")
    if not sep or kind not in SCOPE_KINDS:
        return None
    if not value.strip():
        raise ValueError(f"{text!r} names no {kind}: give one, as in {kind}:sport")
    return kind, value.strip()


def scope_matches(text: str, facts: Mapping[str, ArticleFacts]) -> list[str]:
    """The live articles (``facts``: every live article's, by URL) a scope matches."""
    scope = parse_scope(text)
    return [] if scope is None else _scope_urls(scope, facts)


def scope_suggestion(text: str, facts: Mapping[str, ArticleFacts]) -> str | None:
    """The archived rubrique or tag nearest a misspelt scope's name (difflib), or None."""
    scope = parse_scope(text)
    if scope is None or scope[0] == "url":
        return None
    kind, value = scope
    names = {
        name
        for fact in facts.values()
        for name in ((fact.rubrique,) if kind == "rubrique" else fact.tags)
        if name
    }
    folded = {name.casefold(): name for name in names}
    close = difflib.get_close_matches(value.casefold(), list(folded), n=1, cutoff=0.75)
    return f"{kind}:{folded[close[0]]}" if close else None


def _scope_urls(scope: tuple[str, str], facts: Mapping[str, ArticleFacts]) -> list[str]:
    """The URLs of ``facts`` (by URL) that a parsed scope matches."""
    return [url for url, fact in facts.items() if _scope_matches(scope, url, fact)]


def _scope_matches(scope: tuple[str, str], url: str, facts: ArticleFacts | None) -> bool:
    kind, value = scope
    if kind == "url":
        path = urlsplit(url).path
        if any(char in value for char in "*?["):
            return fnmatch.fnmatchcase(path, value)
        return value in path
    if facts is None:
        return False
    wanted = value.casefold()
    if kind == "rubrique":
        return (facts.rubrique or "").casefold() == wanted
    return any(tag.casefold() == wanted for tag in facts.tags)


@dataclass(frozen=True)
class Rules:
    """The editors' rules, by source: pins in the order they were made, and blocks.

    ``scoped`` holds the blocks that name a scope on either side, as ``(source, target)``
    (``'*'``, a URL or a parsed scope); ``facts`` tells the scopes the archive's articles
    (every URL a scoped target may match).
    """

    pins: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    blocks: Mapping[str, frozenset[str]] = field(default_factory=dict)
    scoped: tuple[tuple[str | tuple[str, str], str | tuple[str, str]], ...] = ()
    facts: Mapping[str, ArticleFacts] = field(default_factory=dict)
    _expanded: dict[tuple[int, ...], frozenset[str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def from_rows(
        cls, rows: Iterable[Sequence], facts: Mapping[str, ArticleFacts] | None = None
    ) -> Rules:
        """Build from ``(source_url, target_url, rule, ...)`` rows, pins in order made;
        ``facts`` (by URL, every live article) is what scoped blocks match against."""
        pins: dict[str, list[str]] = {}
        blocks: dict[str, set[str]] = {}
        scoped: list[tuple[str | tuple[str, str], str | tuple[str, str]]] = []
        for source, target, rule, *_ in rows:
            source_scope, target_scope = parse_scope(source), parse_scope(target)
            if rule == PIN:
                pins.setdefault(source, []).append(target)
            elif rule == BLOCK and source_scope is None and target_scope is None:
                blocks.setdefault(source, set()).add(target)
            elif rule == BLOCK:
                scoped.append((source_scope or source, target_scope or target))
            else:
                raise ValueError(f"unknown rule {rule!r}: use {PIN!r} or {BLOCK!r}")
        return cls(
            {source: tuple(targets) for source, targets in pins.items()},
            {source: frozenset(targets) for source, targets in blocks.items()},
            tuple(scoped),
            dict(facts or {}),
        )

    def pins_for(self, source_url: str | None) -> tuple[str, ...]:
        """The targets pinned for a source (none for a new text: it has no URL)."""
        return self.pins.get(source_url, ()) if source_url is not None else ()

    def blocks_for(self, source_url: str | None) -> frozenset[str]:
        """The targets blocked for a source: its own blocks, the '*' ones and those of
        the scoped blocks whose source scope holds it."""
        everywhere = self.blocks.get(ANY_SOURCE, frozenset())
        own = self.blocks.get(source_url, frozenset()) if source_url is not None else frozenset()
        if not self.scoped:
            return everywhere | own
        applying = tuple(
            number
            for number, (source, _) in enumerate(self.scoped)
            if source == ANY_SOURCE or (source_url is not None and self._holds(source, source_url))
        )
        return everywhere | own | self._targets(applying)

    def _holds(self, scope: str | tuple[str, str], url: str) -> bool:
        if isinstance(scope, str):
            return scope == url
        return _scope_matches(scope, url, self.facts.get(url))

    def _targets(self, applying: tuple[int, ...]) -> frozenset[str]:
        """The URLs the target scopes of the scoped blocks ``applying`` name (once per
        combination: every source page of a section shares one)."""
        if not applying:
            return frozenset()
        found = self._expanded.get(applying)
        if found is None:
            targets = [self.scoped[number][1] for number in applying]
            found = frozenset(
                url
                for target in targets
                for url in (
                    [target] if isinstance(target, str) else _scope_urls(target, self.facts)
                )
            )
            self._expanded[applying] = found
        return found


def fresh_since(source_time: float, fresh_days: float | None, now: float) -> float | None:
    """The oldest publication time a target may have (POSIX seconds), or None for no window.

    The window counts back from the source's publication, or from ``now`` when the
    source has no date (a new text, an undated page): what a reader sees on that day.
    """
    if fresh_days is None:
        return None
    if fresh_days < 0:
        raise ValueError(f"fresh_days must be >= 0, got {fresh_days!r}")
    start = now if source_time is None or math.isnan(source_time) else source_time
    return start - fresh_days * DAY


def apply_rules(
    suggestions: Sequence[Suggestion],
    source_url: str | None,
    k: int,
    pins: Sequence[str] = (),
    blocks: Container[str] = frozenset(),
    *,
    published: Mapping[str, float] | None = None,
    fresh_since: float | None = None,
    live: Container[str] | None = None,
) -> list[RuledSuggestion]:
    """The list a reader sees: pins first, then the model's ranking, at most ``k``.

    Parameters
    ----------
    suggestions : sequence of Suggestion
        The model's ranked list for the source, best first; ask the model for more than
        ``k`` so that blocks and the window still leave ``k``.
    source_url : str or None
        The source (never suggested for itself); None for a new text.
    k : int
        Length of the list.
    pins : sequence of str
        Targets that come first, in this order, with the score and terms the model gave
        them (NaN and none when it did not rank them). They are exempt from the window.
    blocks : container of str
        Targets never shown, pinned or not: a block is the stronger word.
    published : mapping of str to float or None
        Publication time of each target (POSIX seconds, NaN when unknown).
    fresh_since : float or None
        Drop unpinned targets published before this; undated targets stay (many sites
        date nothing, and an undated page is no evidence of staleness).
    live : container of str or None
        When given, targets outside it (gone pages, never archived) are dropped, pins too.

    Returns
    -------
    list of RuledSuggestion
        No duplicates, never the source, at most ``k``.
    """
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    ranked = {s.target_url: s for s in reversed(suggestions)}  # first occurrence wins
    chosen: list[RuledSuggestion] = []
    seen: set[str] = set()

    def allowed(url: str) -> bool:
        return (
            url != source_url
            and url not in seen
            and url not in blocks
            and (live is None or url in live)
        )

    for url in pins:
        if len(chosen) >= k:
            break
        if allowed(url):
            model = ranked.get(url)
            score, terms = (model.score, model.shared_terms) if model else (math.nan, ())
            chosen.append(RuledSuggestion(url, score, terms, pinned=True))
            seen.add(url)
    for suggestion in suggestions:
        if len(chosen) >= k:
            break
        url = suggestion.target_url
        if not allowed(url):
            continue
        if fresh_since is not None and published is not None:
            when = published.get(url, math.nan)
            if when < fresh_since:  # NaN compares False: undated targets stay
                continue
        chosen.append(RuledSuggestion(url, suggestion.score, suggestion.shared_terms))
        seen.add(url)
    return chosen


#: A source of a list: an archived article's URL, or None for a new text.
Key = TypeVar("Key", bound=Hashable | None)


def ruled_lists(
    rank: Callable[[list[Key], int], Mapping[Key, Sequence[Suggestion]]],
    sources: Sequence[Key],
    k: int,
    rules: Rules,
    *,
    max_depth: int,
    published: Mapping[str, float] | None = None,
    source_times: Mapping[Key, float] | None = None,
    fresh_days: float | None = None,
    now: float = math.nan,
    live: Container[str] | None = None,
) -> dict[Key, list[RuledSuggestion]]:
    """:func:`apply_rules` over many sources, asking the model for more when it falls short.

    ``rank(sources, depth)`` returns each source's ranked list of at most ``depth``
    (e.g. ``model.recommend_all``). It is asked for ``2k`` plus the blocks first, then, for
    the sources still short of ``k`` whose list was full, for four times more, up to
    ``max_depth`` (the corpus size). A source key that is not a ``str`` (None for a new
    text) has no pins and only the '*' blocks.
    """
    if k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    max_depth = max(1, max_depth)
    results: dict[Key, list[RuledSuggestion]] = {}
    pending = list(sources)
    depth = min(max_depth, 2 * k + len(rules.blocks_for(None)))
    while pending:
        ranked = rank(pending, depth)
        short = []
        for source in pending:
            url = source if isinstance(source, str) else None
            since = fresh_since(
                (source_times or {}).get(source, math.nan) if url is not None else math.nan,
                fresh_days,
                now,
            )
            ruled = apply_rules(
                ranked[source],
                url,
                k,
                rules.pins_for(url),
                rules.blocks_for(url),
                published=published,
                fresh_since=since,
                live=live,
            )
            results[source] = ruled
            if len(ruled) < k and len(ranked[source]) >= depth and depth < max_depth:
                short.append(source)
        pending = short
        depth = min(max_depth, depth * 4)
    return {source: results[source] for source in sources}


class RuleError(ValueError):
    """A pin or block that cannot hold (a pin for every list, a page pinned to itself)."""


def check_rule(
    rule: str, source_url: str, target_url: str, blocked_everywhere: Container[str]
) -> str | None:
    """Refuse a rule that cannot hold; return a warning for one that will not show.

    Parameters
    ----------
    rule : {'pin', 'block'}
    source_url, target_url : str
        As archived (``source_url`` may be ``'*'`` for a block).
    blocked_everywhere : container of str
        The targets blocked for every list.

    Returns
    -------
    str or None
        A warning when a pin's target is blocked everywhere (a block wins over a pin).

    Raises
    ------
    RuleError
        For an unknown rule, a pin for every list or a target that is the source.
    """
    if rule not in (PIN, BLOCK):
        raise RuleError(f"unknown rule {rule!r}")
    if source_url == ANY_SOURCE and rule == PIN:
        raise RuleError("a pin needs a source article: only blocks hold everywhere")
    for side in (source_url, target_url):
        kind, sep, value = side.partition(":")
        # "http://...", "host:8080/..." are addresses; "bogus:x" is neither
        unknown = sep and kind not in SCOPE_KINDS and _PREFIX.fullmatch(kind)
        if unknown and not value.startswith("//") and not value[:1].isdigit():
            raise RuleError(
                f"{side!r}: {kind!r} is no scope: use rubrique:NAME, tag:NAME, url:PATTERN "
                "or an article's http(s) address"
            )
    try:
        scopes = (parse_scope(source_url), parse_scope(target_url))
    except ValueError as error:
        raise RuleError(str(error)) from None
    if rule == PIN and any(scopes):
        raise RuleError("a pin names two articles: only blocks hold for a scope")
    if source_url == target_url:
        raise RuleError(f"{target_url} is the source itself: it is never suggested")
    if rule == PIN and target_url in blocked_everywhere:
        return (
            f"{target_url} is blocked everywhere, and a block wins over a pin: "
            f"`relnews unblock {target_url}` to show it"
        )
    return None


# -- the lists readers see ---------------------------------------------------------------


@dataclass(frozen=True)
class RelatedArticle:
    """One line of a list as shown: ``score`` is None for a pin the model did not rank;
    ``backfill`` is True for a target that fills a list the model left short."""

    rank: int
    title: str
    url: str
    score: float | None
    shared_terms: tuple[str, ...]
    pinned: bool = False
    backfill: bool = False


class NotFitted(LookupError):
    """A source the model was not fitted on (archived since, or gone)."""


def published_times(model: Any) -> dict[str, float]:
    """Each fitted article's publication time (POSIX seconds, NaN when unknown)."""
    return dict(zip(model.urls_, map(float, model.published_), strict=True))


def related_lists(
    model: Any,
    sources: Sequence[str | None],
    k: int,
    rules: Rules,
    titles: Mapping[str, str],
    *,
    fresh_days: float | None = None,
    now: float | None = None,
    text: str = "",
    title: str = "",
    published: Mapping[str, float] | None = None,
    texts: Mapping[str, tuple[str, str]] | None = None,
) -> dict[str | None, list[RelatedArticle]]:
    """The lists readers see for archived sources (or, for the source None, for ``text``):
    the model's ranking with the editors' rules and the freshness window applied.

    ``texts`` holds the (title, text) of archived sources the model was not fitted on
    (crawled since the fit): they are ranked from their words, as a draft is, among the
    articles published up to them (``published``, else now), under their own rules.

    ``titles`` holds the live articles: suggestions outside it (gone since the fit) are
    dropped. The model only needs ``recommend_all``, ``recommend_text``, ``urls_``,
    ``index_`` and ``published_`` (``published``, from :func:`published_times`, saves
    rebuilding the dates on every call). An archived source's list that the model and
    the rules leave shorter than ``k`` is filled by
    :func:`recommender.backfill.backfill_candidates`, under the same blocks and window,
    each such item marked ``backfill`` (a new text's list is not: nothing but its words
    says what it is about).

    Raises
    ------
    NotFitted
        If a source is not among the articles the model was fitted on.
    """
    now = time.time() if now is None else now
    # The sources ranked from their words: the unfitted ones, and the draft (None).
    drafts: dict[str | None, tuple[str, str]] = {None: (title, text)}
    drafts.update((texts or {}).items())
    missing = [s for s in sources if s not in model.index_ and s not in drafts]
    if missing:
        raise NotFitted(
            f"{missing[0]} is not among the articles the model was fitted on (archived "
            "since, or gone): run `relnews fit` again"
        )
    published = published_times(model) if published is None else published
    times = cast("Mapping[str | None, float]", published)  # None (a draft): no time

    def rank(pending: list[str | None], depth: int) -> Mapping[str | None, list[Suggestion]]:
        fitted = [s for s in pending if s in model.index_]
        ranked: dict[str | None, list[Suggestion]] = (
            dict(model.recommend_all(depth, urls=fitted)) if fitted else {}
        )
        for source in pending:
            if source not in ranked:
                # among the articles published up to it (undated, a draft: up to now)
                when = times.get(source, math.nan)
                before = datetime.fromtimestamp(now if math.isnan(when) else when, UTC)
                source_title, source_text = drafts[source]
                ranked[source] = model.recommend_text(
                    source_text, depth, before.replace(tzinfo=None), title=source_title
                )
        return ranked

    lists = ruled_lists(
        rank,
        list(sources),
        k,
        rules,
        max_depth=len(model.urls_),
        published=published,
        source_times=times,
        fresh_days=fresh_days,
        now=now,
        live=titles,
    )
    # Here, not at the top: a command that only reads rules (relnews rules, pin) loads
    # no scipy (about 0.1 s of every such command).
    from .backfill import text_scores

    short = [s for s, ruled in lists.items() if s in model.index_ and len(ruled) < k]
    for source, scores in text_scores(model, cast("list[str]", short)):
        since = fresh_since(published.get(source, math.nan), fresh_days, now)
        lists[source] += _backfill(
            model, source, lists[source], k, rules, published, since, titles, scores
        )
    return {source: shown(suggestions, titles) for source, suggestions in lists.items()}


def shown(
    suggestions: Sequence[RuledSuggestion], titles: Mapping[str, str]
) -> list[RelatedArticle]:
    """A ruled list as readers see it: ranked from 1, with titles, no NaN score."""
    return [
        RelatedArticle(
            rank,
            titles.get(s.target_url, ""),
            s.target_url,
            None if math.isnan(s.score) else s.score,
            tuple(s.shared_terms),
            s.pinned,
            s.backfill,
        )
        for rank, s in enumerate(suggestions, start=1)
    ]


def _backfill(
    model: Any,
    source: str,
    ruled: Sequence[RuledSuggestion],
    k: int,
    rules: Rules,
    published: Mapping[str, float],
    since: float | None,
    live: Container[str],
    scores: Any,
) -> list[RuledSuggestion]:
    """What fills ``source``'s short list: the backfill order under the same blocks,
    window and live pages, deepened until ``k`` or the corpus runs out (``scores``:
    the source's, from :func:`recommender.backfill.text_scores`, computed once)."""
    from .backfill import backfill_candidates

    need = k - len(ruled)
    taken = rules.blocks_for(source) | {s.target_url for s in ruled}
    depth = need + len(ruled) + 2 * k
    while True:
        found = backfill_candidates(model, source, depth, scores)
        extra = apply_rules(
            found, source, need, (), taken, published=published, fresh_since=since, live=live
        )
        if len(extra) >= need or len(found) < depth:
            break
        depth *= 4
    return [replace(s, backfill=True) for s in extra]
