"""The serving pipeline as an ordered list of named steps over one request context.

candidates → filters → features → rank → explore → rules → reasons. Each step is a small
function that reads the `RequestContext` and the `Draft` the earlier steps filled, and is timed
under its own name. Serving runs every step; ranker training runs the first three
(`candidate_features`), offline evaluation all of them: one code path from user state to page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from models.bundle import ModelBundle, rows_of
from models.candidates import CandidateConfig, CandidateSet, generate_set, merge
from models.confidence import page_confidence, score_spread
from models.context import PipelineStats, RequestContext, excluded
from models.explain import explain
from models.exploration import personal_pool, thompson_pick
from models.features import build_features
from models.fold import sequence_anchors
from models.oblivious import scorer_of
from models.page import LiveCheck, adaptive_slots, allowed, allowed_explorers, arrange_page
from models.pools import ItemFacts
from models.ranking import ranker_of
from models.rules import Filters
from models.similarity import history_anchors
from models.sources import DEFAULT_SHARES
from models.types import Candidate, Recommendation

HISTORY_SOURCES = frozenset({"als", "ease"})
"""Sources scoring an item against the whole history rather than one anchor item."""
NO_FACTS = ItemFacts(np.empty((0, 0)), [], np.empty(0, dtype=bool))


@dataclass
class Draft:
    """What the steps have made so far: candidates (filtered, then ranked), their facts and
    features, the spread of the ranker's scores, the exploration pool, picks and where they go,
    the page and its served items."""

    found: CandidateSet = field(default_factory=lambda: CandidateSet.of([]))
    generated: int = 0
    explore_pool: list[Candidate] = field(default_factory=list)
    facts: ItemFacts = NO_FACTS
    checked: LiveCheck | None = None
    features: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))
    order: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    scores: np.ndarray = field(default_factory=lambda: np.empty(0))
    spread: float | None = None
    explorers: list[Candidate] = field(default_factory=list)
    explore_at_bottom: bool = False
    page: list[Candidate] = field(default_factory=list)
    served: list[Recommendation] = field(default_factory=list)


Step = tuple[str, Callable[[RequestContext, Draft], None]]


def version_shares(bundle: ModelBundle | None) -> dict[str, float]:
    """The candidate mix the version's ranker was trained on (its manifest), else the default."""
    recorded = (bundle.manifest.get("parameters") or {}).get("candidate_shares") if bundle else None
    if not isinstance(recorded, dict):
        return dict(DEFAULT_SHARES)
    return {source: float(share) for source, share in recorded.items()}


def candidates(ctx: RequestContext, draft: Draft) -> None:
    """Candidates of every source (nothing the request may not show), and apart from them the
    exploration pool, so the merge never relabels an explorer as trending."""
    limit = ctx.config.candidate_limit
    config = CandidateConfig(
        shares={**version_shares(ctx.bundle), "explore": 0.0, **_unknown_user(ctx)},
        rebuy=ctx.policy.rebuy,
        trending_items=ctx.pools.trending[:limit],
        exclude=frozenset(excluded(ctx.query, ctx.consumed)),
        live_content=ctx.live_content,
    )
    found = generate_set(
        ctx.bundle, ctx.user, ctx.signals, ctx.now, limit, config=config, fold=ctx.fold
    )
    if ctx.bundle is None:
        found = CandidateSet.of(merge([_same_category(ctx), found.candidates()]))
    draft.found, draft.generated = found, len(found)
    unexposed = ctx.pools.unexposed[: max(1, limit // 10)]
    draft.explore_pool = [Candidate(item_id, "explore", 0.0) for item_id in unexposed]


def _unknown_user(ctx: RequestContext) -> dict[str, float]:
    """Before the first model, or for a user the model knows nothing of, trending may fill the
    whole candidate set (the personal sources have nothing to say)."""
    fold = ctx.fold
    known = fold.vector is not None or fold.ease is not None or fold.sequence is not None
    return {} if ctx.bundle is not None and (known or ctx.recent) else {"trending": 1.0}


def _same_category(ctx: RequestContext) -> list[Candidate]:
    """Before the first model: items sharing a category with the user's recent items."""
    listed = {i: item for i in ctx.recent if (item := ctx.meta(i)) is not None}
    seen = {h.item_id for h in ctx.user.history}
    found: list[Candidate] = []
    for rank, (anchor, item) in enumerate(listed.items()):
        category = item.category
        for item_id, popularity in ctx.pools.by_category.get(category, ()) if category else ():
            if item_id not in seen:
                found.append(Candidate(item_id, "item2item", 1.0 + popularity - rank * 0.1, anchor))
    return found


def filters(ctx: RequestContext, draft: Draft) -> None:
    """Drop consumed, excluded, out-of-stock, deleted and off-category candidates and explorers."""
    rules = Filters(excluded(ctx.query, ctx.consumed), ctx.query.category)
    facts = ctx.pools.facts(draft.found.ids, ctx.signals, ctx.meta)
    rows = np.flatnonzero(allowed(draft.found.ids, facts, rules))
    draft.found, draft.facts = draft.found.take(rows), facts.take(rows)
    draft.explore_pool = allowed_explorers(
        draft.explore_pool, ctx.pools, ctx.signals, ctx.meta, rules
    )
    draft.checked = LiveCheck(ctx.meta, rules)


def features(ctx: RequestContext, draft: Draft) -> None:
    """One feature row per candidate, from the values the request already holds."""
    draft.features, _ = build_features(
        ctx.bundle,
        ctx.user,
        draft.found,
        ctx.signals,
        ctx.meta,
        ctx.now,
        looked_up=(draft.facts.values, draft.facts.categories),
        fold=ctx.fold,
    )


def rank(ctx: RequestContext, draft: Draft) -> None:
    """Candidates best first by the bundle's ranker (the retrieval baseline without one)."""
    if not len(draft.found):
        return
    scores = scorer_of(ranker_of(ctx.bundle))(draft.features)
    draft.order = np.argsort(-scores, kind="stable")
    draft.scores = scores[draft.order]
    draft.spread = score_spread(scores, ctx.bundle)


def explore(ctx: RequestContext, draft: Draft) -> None:
    """Thompson draws fill the exploration slots, fewer the more the user's history says and the
    more confident the ranking: from the user's own long-tail candidates ranked below the page,
    else from the catalogue's least shown items. A warm user's explorers go to the bottom."""
    known = max(len(ctx.user.history), len(ctx.user.interacted))
    config = ctx.config
    confidence = page_confidence(draft.spread, ctx.bundle, config.exploration_confidence)
    slots = adaptive_slots(
        config.exploration_slots,
        config.exploration_warm_events,
        known,
        ctx.query.count,
        ctx.rng,
        confidence,
    )
    draft.explore_at_bottom = (
        config.exploration_at_bottom and known >= config.exploration_warm_events
    )
    if slots <= 0:
        return
    keep = draft.checked.allows if draft.checked is not None else None
    pool = _long_tail(ctx, draft) or draft.explore_pool
    draft.explorers = thompson_pick(pool, ctx.signals, ctx.rng, slots, keep=keep)


def _long_tail(ctx: RequestContext, draft: Draft) -> list[Candidate]:
    """The user's rarely shown long-tail candidates below the page, best first (items the
    bundle does not know are long tail)."""
    rows, bundle = draft.found.rows, ctx.bundle
    below = draft.order[ctx.query.count :]
    if bundle is None or rows is None or not len(below):
        return []
    tail = np.ones(len(rows), dtype=bool)
    known = rows >= 0
    tail[known] = bundle.long_tail[rows[known]]
    return personal_pool(draft.found.ids, below, tail, draft.facts.column("impressions"))


def rules(ctx: RequestContext, draft: Draft) -> None:
    """Boosts, explorers at their positions and the diversity cap make the page."""
    checked = draft.checked or LiveCheck(ctx.meta, Filters(ctx.query.exclude, ctx.query.category))
    draft.page = arrange_page(
        draft.found,
        draft.order,
        draft.scores,
        draft.facts,
        draft.explorers,
        checked,
        ctx.now,
        ctx.config.boosts,
        ctx.config.max_category_share,
        ctx.query.count,
        draft.explore_at_bottom,
    )


def reasons(ctx: RequestContext, draft: Draft) -> None:
    """A truthful reason per item: whole-history items name the history item most linked to
    them; the verb follows what the user did with the anchor."""
    page = draft.page
    if ctx.bundle is not None and ctx.personalised:
        page = _with_history_anchors(ctx, page)
    meta = draft.checked.meta if draft.checked is not None else ctx.meta
    draft.served = [
        Recommendation(c.item_id, round(c.score, 6), c.source, explain(c, ctx, meta)) for c in page
    ]


def _with_history_anchors(ctx: RequestContext, page: list[Candidate]) -> list[Candidate]:
    """Items scored against the history get the history item most linked to them as anchor:
    for a sequence item the recent item adding most to its score, for the others the strongest
    EASE neighbour."""
    unanchored = [
        n
        for n, c in enumerate(page)
        if c.anchor_item_id is None and (c.source in HISTORY_SOURCES or c.source == "sequence")
    ]
    if not unanchored or ctx.bundle is None:
        return page
    disliked, bundle = ctx.consumed.disliked, ctx.bundle
    anchored = list(page)
    by_sequence = [n for n in unanchored if page[n].source == "sequence"]
    rest = [n for n in unanchored if page[n].source != "sequence"]
    if by_sequence and ctx.fold.sequence is not None:
        rows = rows_of(bundle.item_index, [page[n].item_id for n in by_sequence])
        found = sequence_anchors(bundle, ctx.fold.sequence, rows, disliked)
        for n, anchor in zip(by_sequence, found, strict=True):
            if anchor is not None:
                anchored[n] = replace(page[n], anchor_item_id=anchor)
    ids = [page[n].item_id for n in rest]
    anchors = history_anchors(bundle, ctx.user, ids, ctx.fold.ease, disliked)
    for n, anchor in zip(rest, anchors, strict=True):
        if anchor is not None:
            anchored[n] = replace(page[n], anchor_item_id=anchor)
    return anchored


STEPS: tuple[Step, ...] = (
    ("candidates", candidates),
    ("filters", filters),
    ("features", features),
    ("rank", rank),
    ("explore", explore),
    ("rules", rules),
    ("reasons", reasons),
)
"""The serving pipeline, in order; each name is also the step's stage label in the metrics."""
CANDIDATE_STEPS = STEPS[:3]
"""The steps that make a ranker's training rows: candidates, filters, features."""


def run(ctx: RequestContext, steps: tuple[Step, ...] = STEPS) -> Draft:
    """Run `steps` in order over a fresh draft, timing each under its name."""
    draft = Draft()
    for name, step in steps:
        started = time.perf_counter()
        step(ctx, draft)
        if ctx.observe is not None:
            ctx.observe(name, time.perf_counter() - started)
    return draft


def recommend(ctx: RequestContext, stats: PipelineStats | None = None) -> list[Recommendation]:
    """A page of at most `ctx.query.count` recommendations, each with a reason."""
    draft = run(ctx)
    if stats is not None:
        stats.candidates, stats.ranked = draft.generated, len(draft.found)
        stats.served = len(draft.served)
    return draft.served


def candidate_features(ctx: RequestContext) -> tuple[CandidateSet, np.ndarray]:
    """The filtered candidates and their feature rows, exactly as serving makes them."""
    draft = run(ctx, CANDIDATE_STEPS)
    return draft.found, draft.features
