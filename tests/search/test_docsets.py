"""Set-valued evaluation must agree exactly with Whoosh's own matching, deletions included."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from whoosh import query as q

from search.index import FACETS, IndexDoc, QueryError, SearchIndex, Visibility
from search.population import Population
from search.ranking import whoosh_top

WORDS = ["合同", "仓储", "预算", "验收", "supplier", "report", "会议", "发票", "绿色", "通道"]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def corpus(rng: random.Random, start: int, count: int) -> list[IndexDoc]:
    return [
        IndexDoc(
            record_id=f"r{n}",
            version_id=f"v{n}-{rng.random():.6f}",
            title=rng.choice(WORDS),
            content="，".join(rng.choices(WORDS, k=rng.randint(1, 12))),
            name=f"项目{n % 7}-2025-01-1.0",
            project=f"项目{n % 7}",
            department=rng.choice(["XS", "CG", "RL"]),
            sensitivity=rng.choice(["public", "internal", "confidential", "restricted"]),
            filed=T0 + timedelta(hours=rng.randrange(5000)),
            stage=rng.choice(["", "立项", "验收"]),
        )
        for n in range(start, start + count)
    ]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    """Several segments, with updated and deleted records in them."""
    rng = random.Random(7)  # noqa: S311 - a reproducible corpus
    ix = SearchIndex(tmp_path_factory.mktemp("docsets") / "index", bytes(range(32)))
    for batch in range(4):
        ix.write(corpus(rng, batch * 150, 150))
    ix.write(corpus(rng, 0, 60), remove=[f"r{n}" for n in range(300, 340)])
    return ix


def hashed(index: SearchIndex, query: q.Query | str) -> q.Query:
    """A query on words as the index asks it: parsed, or its terms hashed."""
    if isinstance(query, str):
        return index.parse_query(query)
    term = index._hasher.term
    if isinstance(query, q.Term):
        return q.Term(query.fieldname, term(query.text))
    if isinstance(query, q.Phrase):
        return q.Phrase(query.fieldname, [term(w) for w in query.words])
    return query.apply(partial(hashed, index))


QUERIES: list[q.Query | str] = [
    q.Term("content", "合同"),
    q.Term("content", "nothing-like-this"),
    q.Or([q.Term("content", "预算"), q.Term("title", "会议")]),
    q.And([q.Term("content", "仓储"), q.Term("content", "验收")]),
    q.And([q.Term("content", "仓储"), q.Not(q.Term("content", "绿色"))]),
    q.AndNot(q.Term("content", "发票"), q.Term("title", "发票")),
    q.Not(q.Term("content", "合同")),
    q.Phrase("content", ["绿色", "通道"]),
    q.Every(),
    "合同 OR (supplier AND NOT 预算)",
    '"绿色通道" 验收',
    "reports",
]


@pytest.mark.parametrize("query", QUERIES, ids=[str(x) for x in QUERIES])
def test_sets_agree_with_whoosh_matching(index: SearchIndex, query: q.Query | str) -> None:
    searcher, sets = index._current_searcher()
    query = hashed(index, query)
    expected = set(searcher.docs_for_query(query))
    assert sets.matching(query) & sets.live() == expected


SPECIALIST = Visibility(
    everywhere=frozenset({"public", "internal"}),
    department="RL",
    in_department=frozenset({"confidential"}),
)


@pytest.mark.parametrize(
    ("text", "visibility"),
    [
        ("合同 OR 预算", SPECIALIST),
        (
            "合同 OR 仓储 OR 预算 OR 验收 OR 会议 OR 发票 OR 绿色 OR 通道",
            Visibility(everything=True),
        ),
    ],
    ids=["some (facets counted per document)", "all (facets counted per value)"],
)
def test_totals_facets_and_date_order_agree_with_a_naive_count(
    index: SearchIndex, text: str, visibility: Visibility
) -> None:
    results = index.search(text, visibility, per_page=100, sort="date")
    searcher, _ = index._current_searcher()
    allowed = [
        fields
        for docnum in searcher.docs_for_query(index.parse_query(text))
        for fields in [searcher.stored_fields(docnum)]
        if visibility.everything
        or fields["sensitivity"] in ("public", "internal")
        or (fields["department"] == "RL" and fields["sensitivity"] == "confidential")
    ]
    assert results.total == len(allowed) > 100
    for facet in ("department", "sensitivity", "project", "stage"):
        naive: dict[str, int] = {}
        for fields in allowed:
            if fields[facet]:
                naive[fields[facet]] = naive.get(fields[facet], 0) + 1
        assert results.facets[facet] == naive
    assert set(results.facets) == set(FACETS)
    newest = sorted(allowed, key=lambda f: f["filed"], reverse=True)[:100]
    assert [h.filed for h in results.hits] == [f["filed"] for f in newest]
    assert {h.record_id for h in results.hits} <= {f["record_id"] for f in allowed}


def test_relevance_pages_do_not_overlap_and_cover_the_total(index: SearchIndex) -> None:
    everything = Visibility(everything=True)
    first = index.search("仓储", everything, per_page=100)
    pages = [
        h.record_id
        for page in range(1, first.total // 100 + 2)
        for h in index.search("仓储", everything, page=page, per_page=100).hits
    ]
    assert len(pages) == len(set(pages)) == first.total
    scores = [h.score for h in first.hits]
    assert scores == sorted(scores, reverse=True)


def test_deep_paging_is_refused_with_a_clear_error(index: SearchIndex) -> None:
    with pytest.raises(QueryError, match="first 10000 results"):
        index.search("合同", Visibility(everything=True), page=101, per_page=100)
    beyond = index.search("合同", Visibility(everything=True), page=99, per_page=100)
    assert beyond.hits == []
    assert beyond.total > 0


def populations(index: SearchIndex) -> dict[str, Population]:
    """Everything; and a caller who knows of RL's records and may search the text only of
    its internal ones (statistics over those alone: search.population)."""
    _, sets = index._current_searcher()
    rl = q.Term("department", "RL")
    return {
        "everything": Population(sets, []),
        "RL, internal text": Population(sets, [rl], [rl, q.Term("sensitivity", "internal")]),
    }


@pytest.mark.parametrize("who", ["everything", "RL, internal text"])
@pytest.mark.parametrize(
    "text", ["合同", "仓储 验收", "预算 OR supplier", "仓储 NOT 绿色", "reports", "会议 OR 合同"]
)
def test_block_scoring_agrees_with_whoosh_bm25f(index: SearchIndex, text: str, who: str) -> None:
    searcher, sets = index._current_searcher()
    population = populations(index)[who]
    query = index.parse_query(text)
    matched = sets.matching(query, population.text_in) & population.known
    ours = sets.top(query, matched, 30, population)
    assert ours is not None
    theirs = whoosh_top(searcher, query, matched, 30, population)
    assert len(ours) == min(30, len(matched)) > 0
    assert [d for d, _ in ours] == [d for d, _ in theirs]
    assert [round(s, 9) for _, s in ours] == [round(s, 9) for _, s in theirs]


def test_statistics_are_taken_over_the_population(index: SearchIndex) -> None:
    """idf and average length count only the documents the caller may know of (and, for
    the text, may search): Whoosh's own figures count every document in the index."""
    searcher, sets = index._current_searcher()
    everything, rl = populations(index).values()
    word = index.parse_query("合同").subqueries[1]  # content_terms: the text
    assert word.fieldname == "content_terms"
    held = set(searcher.docs_for_query(word))
    assert everything.known == sets.live()
    assert rl.text_in is not None
    for population, among in ((everything, sets.live()), (rl, rl.text_in)):
        assert among is not None
        expected = math.log(len(among) / (len(held & among) + 1)) + 1
        assert population.idf("content_terms", word.text) == pytest.approx(expected)
    for population in (everything, rl):  # deleted documents are not counted
        lengths = [searcher.doc_field_length(d, "title", 0) for d in population.known]
        assert len(lengths) < searcher.doc_count_all()
        assert population.average_length("title") == pytest.approx(sum(lengths) / len(lengths))
    assert rl.idf("content_terms", word.text) != everything.idf("content_terms", word.text)


def test_phrases_are_scored_by_whoosh(index: SearchIndex) -> None:
    searcher, sets = index._current_searcher()
    query = index.parse_query('"合同，仓储"')
    everything = populations(index)["everything"]
    assert sets.top(query, sets.matching(query), 10, everything) is None
    results = index.search('"合同，仓储"', Visibility(everything=True), per_page=100)
    assert results.total == len(set(searcher.docs_for_query(query))) > 0
    context = searcher.context(weighting=everything.weighting())
    collector = searcher.collector(limit=100)
    searcher.search_with_collector(query, collector, context=context)
    theirs = [hit.docnum for hit in collector.results()]
    assert [h.record_id for h in results.hits] == [
        searcher.stored_fields(d)["record_id"] for d in theirs
    ]
