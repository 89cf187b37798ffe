"""Caches per segment: reused across searcher reopens, yet results equal a fresh searcher's;
deleted documents merged away on schedule; the writer's analysis pool changes nothing."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from search import blocks
from search.index import FACETS, IndexDoc, SearchIndex, Visibility
from search.tasks import BEAT, ROUTES
from tests.search.test_docsets import corpus

KEY = bytes(range(32))
EVERYTHING = Visibility(everything=True)
SPECIALIST = Visibility(
    everywhere=frozenset({"public", "internal"}),
    department="RL",
    in_department=frozenset({"confidential"}),
)
ASKED = ["合同", "仓储 验收", "预算 OR supplier", "仓储 NOT 绿色", '"绿色通道"', "reports"]


def outcome(index: SearchIndex) -> list[object]:
    """Everything a caller sees, for a spread of queries, visibilities, filters and sorts."""
    seen: list[object] = []
    for text in ASKED:
        for visibility in (EVERYTHING, SPECIALIST):
            for sort in ("relevance", "date"):
                found = index.search(text, visibility, per_page=50, sort=sort)
                hits = [(h.record_id, h.version_id, round(h.score, 9)) for h in found.hits]
                seen.append((text, sort, found.total, found.facets, hits))
        filtered = index.search(text, SPECIALIST, filters={"department": "RL"}, per_page=50)
        seen.append((text, filtered.total, filtered.facets, [h.record_id for h in filtered.hits]))
    return seen


def counted(index: SearchIndex) -> list[object]:
    """Totals, facets and which records match: what a merge must not change (scores may:
    Whoosh's length statistics counted the deleted documents until they went)."""
    seen: list[object] = []
    for text in ASKED:
        for visibility in (EVERYTHING, SPECIALIST):
            found = index.search(text, visibility, per_page=100)
            records = [
                hit.record_id
                for page in range(1, found.total // 100 + 2)
                for hit in index.search(text, visibility, page=page, per_page=100).hits
            ]
            seen.append((found.total, found.facets, sorted(records)))
    return seen


def fills(index: SearchIndex) -> dict[tuple[str, int], Counter[str]]:
    return {key: Counter(cache.fills) for key, cache in index._segments.segments.items()}


def test_many_small_commits_give_the_results_of_a_fresh_searcher(tmp_path: Path) -> None:
    rng = random.Random(3)  # noqa: S311 - a reproducible corpus
    index = SearchIndex(tmp_path / "index", KEY)
    index.write(corpus(rng, 0, 300))
    outcome(index)  # caches filled, then reused by every reopen below
    for step in range(12):
        added = corpus(rng, 300 + step * 5, 5)
        updated = corpus(rng, rng.randrange(300), 3)  # replaced: the old ones deleted
        index.write([*added, *updated], remove=[f"r{rng.randrange(300)}" for _ in range(2)])
        outcome(index)
    assert len(index._current_searcher()[0].leaf_searchers()) > 1
    fresh = SearchIndex(tmp_path / "index", KEY)  # its own, empty caches
    ours, theirs = outcome(index), outcome(fresh)
    assert ours == theirs
    assert all(index.search(text, EVERYTHING).total for text in ASKED[:4])


def test_a_reopen_after_a_small_commit_computes_only_the_new_segment(tmp_path: Path) -> None:
    rng = random.Random(5)  # noqa: S311 - a reproducible corpus
    index = SearchIndex(tmp_path / "index", KEY)
    index.write(corpus(rng, 0, 400))
    outcome(index)
    before = fills(index)
    (old,) = before
    assert {"postings", "facet", "filter", "lengths", "length total", "filed"} <= set(before[old])
    cache = index._segments.segments[old]

    # One new record and one update, whose old document is deleted in the big segment.
    index.write([*corpus(rng, 400, 1), *corpus(rng, 7, 1)])
    after_commit = outcome(index)
    now = fills(index)
    assert index._segments.segments[old] is cache
    assert now[old] == before[old]  # nothing recomputed for the old segment
    (new,) = set(now) - {old}
    assert now[new]["facet"] == len(FACETS)
    assert now[new]["postings"] > 0
    assert after_commit == outcome(SearchIndex(tmp_path / "index", KEY))
    assert index.doc_count() == 401  # the update's old document is not counted

    # A middling commit, then commits of one record each: Whoosh merges the small segments
    # now and then (and would put the middling one first), and the large one keeps its
    # place (its document numbers), so its caches are never redone.
    index.write(corpus(rng, 500, 50))
    index.search("合同", SPECIALIST)
    reader = cache.reader  # its terms open: a new one would read the term file again
    for number in range(401, 413):
        index.write(corpus(rng, number, 1))
        index.search("合同", SPECIALIST)
    assert len(index._current_searcher()[0].leaf_searchers()) < 12  # merged
    assert index._segments.segments[old] is cache
    assert cache.reader is reader
    assert fills(index)[old] == before[old]


def test_merging_deletions_keeps_results_and_drops_the_deleted(tmp_path: Path) -> None:
    rng = random.Random(9)  # noqa: S311 - a reproducible corpus
    index = SearchIndex(tmp_path / "index", KEY)
    index.write(corpus(rng, 0, 200))
    index.write(corpus(rng, 0, 40), remove=["r150", "r151"])  # 42 of 200 deleted
    expected = counted(index)
    searcher, _ = index._current_searcher()
    assert searcher.reader().doc_count_all() == 240
    assert index.merge_deletions() == 42
    searcher, _ = index._current_searcher()
    assert searcher.reader().doc_count_all() == searcher.doc_count() == 198
    assert not searcher.reader().has_deletions()
    assert counted(index) == expected
    assert counted(SearchIndex(tmp_path / "index", KEY)) == expected
    assert index.merge_deletions() == 0
    assert searcher.up_to_date()  # nothing to merge: no new generation


def test_only_segments_with_enough_deletions_are_rewritten(tmp_path: Path) -> None:
    rng = random.Random(11)  # noqa: S311 - a reproducible corpus
    index = SearchIndex(tmp_path / "index", KEY)
    index.write(corpus(rng, 0, 200))
    index.write(corpus(rng, 0, 5))  # 5 of 200: under the 10% share
    assert index.merge_deletions() == 0
    assert index.merge_deletions(share=0.01) == 5


def test_the_merge_runs_on_the_index_writers_schedule() -> None:
    assert BEAT["search-merge"]["task"] == "search.merge"
    assert ROUTES["search.merge"] == ROUTES["search.flush"] == {"queue": "index"}


def long_document(rng: random.Random) -> IndexDoc:
    """A text of many pieces: its pieces are spread over several pool tasks."""
    words = ["合同", "仓储", "預算", "验收", "suppliers", "報告", "会议", "發票", "绿色", "通道"]
    data = "，".join(rng.choices(words, k=40_000)).encode()
    text, starts = blocks.pieces(data)
    assert len(starts) > 10
    (doc,) = corpus(rng, 9_999, 1)
    return IndexDoc(**{**doc.__dict__, "content": text, "blocks": tuple(starts)})


def test_the_analysis_pool_indexes_exactly_what_this_process_would(tmp_path: Path) -> None:
    rng = random.Random(13)  # noqa: S311 - a reproducible corpus
    docs = [*corpus(rng, 0, 120), long_document(rng)]
    pooled = SearchIndex(tmp_path / "pooled", KEY)
    local = SearchIndex(tmp_path / "local", KEY)
    pooled.write(docs, parallel=True)
    local.write(docs, parallel=False)
    assert outcome(pooled) == outcome(local)
    updates = corpus(rng, 0, 10)
    for index in (pooled, local):
        index.write(updates, parallel=index is pooled)
    assert outcome(pooled) == outcome(local)
    stored = [
        sorted(map(sorted, (f.items() for f in ix._current_searcher()[0].all_stored_fields())))
        for ix in (pooled, local)
    ]
    assert stored[0] == stored[1]


@pytest.mark.parametrize("parallel", [True, False])
def test_a_long_document_is_found_by_words_of_its_last_piece(
    tmp_path: Path, parallel: bool
) -> None:
    rng = random.Random(17)  # noqa: S311 - a reproducible corpus
    doc = long_document(rng)
    tail = doc.content[doc.blocks[-1] :] + "，独一无二的结尾"
    doc = IndexDoc(**{**doc.__dict__, "content": doc.content[: doc.blocks[-1]] + tail})
    index = SearchIndex(tmp_path / "index", KEY)
    index.write([doc], parallel=parallel)
    assert [h.record_id for h in index.search("独一无二", EVERYTHING).hits] == [doc.record_id]
