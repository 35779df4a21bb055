"""Keep each loaded bundle's `LiveContent` up to date with the catalog, off the request path.

Every `STREAMREC_CONTENT_REFRESH_S` seconds (30 by default) the worker calls
`LiveContentBook.refresh` with the catalog items some bundle has no content vector for: it
vectorises those whose text a live index does not hold yet (or holds an older text of), and
drops the live items no longer in the catalog. Requests only call `for_bundle`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from models.bundle import ModelBundle
from models.content_live import LiveContent
from models.content_text import meta_text
from models.types import MetaLookup

CatalogIds = Callable[[], Iterable[str]]


@dataclass(frozen=True, slots=True)
class _Held:
    bundle: ModelBundle
    live: LiveContent


def new_texts(
    bundle: ModelBundle,
    live: LiveContent,
    catalog_ids: Iterable[str],
    meta: MetaLookup,
) -> tuple[dict[str, str], set[str]]:
    """Catalog items outside the bundle whose text `live` does not hold yet ({id: text}), and
    the live items no longer in the catalog."""
    changed: dict[str, str] = {}
    present: set[str] = set()
    for item_id in catalog_ids:
        if item_id in bundle.content_index:
            continue
        item = meta(item_id)
        if item is None:
            continue
        present.add(item_id)
        text = meta_text(item)
        if live.text_of(item_id) != text:
            changed[item_id] = text
    return changed, set(live.ids()) - present


def refresh_live(
    bundle: ModelBundle,
    live: LiveContent,
    catalog_ids: Iterable[str],
    meta: MetaLookup,
) -> int:
    """Bring `live` up to date with the catalog; return how many items were vectorised."""
    model = bundle.content_model
    if model is None:
        return 0
    changed, gone = new_texts(bundle, live, catalog_ids, meta)
    if changed or gone:
        ids, texts = list(changed), list(changed.values())
        live.update(ids, model.vectorise(texts), texts, drop=gone)
    return len(changed)


class LiveContentBook:
    """The `LiveContent` of each loaded bundle that has a text model; a bundle loaded later
    (a hot swap) starts an empty one at its first refresh."""

    def __init__(self) -> None:
        self._held: dict[int, _Held] = {}
        self._refreshing = threading.Lock()

    def for_bundle(self, bundle: ModelBundle | None) -> LiveContent | None:
        """The live index of `bundle`; None before its first refresh or without a text model."""
        held = self._held.get(id(bundle)) if bundle is not None else None
        return held.live if held is not None and held.bundle is bundle else None

    def refresh(
        self,
        bundles: Iterable[ModelBundle | None],
        catalog_ids: CatalogIds,
        meta: MetaLookup,
    ) -> int:
        """Refresh the live index of each of `bundles` (others are forgotten); return how many
        items were vectorised."""
        with self._refreshing:
            held: dict[int, _Held] = {}
            vectorised = 0
            for bundle in bundles:
                if bundle is None or bundle.content_model is None or id(bundle) in held:
                    continue
                live = self.for_bundle(bundle) or LiveContent(bundle.content_model.dims)
                vectorised += refresh_live(bundle, live, catalog_ids(), meta)
                held[id(bundle)] = _Held(bundle, live)
            self._held = held
            return vectorised
