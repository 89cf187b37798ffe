"""The index holds keyed hashes, not words (issue 18 §9): an attack on its files, the key,
and ranking, totals and facets exactly as an index of plain words gives them."""

from __future__ import annotations

import base64
import pickle
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index

from search.analysis import TermHasher, analyzer, words
from search.docsets import DocSets
from search.index import FACETS, IndexDoc, SearchIndex, Visibility, one_by_one
from search.population import Population
from search.query import parse_query
from search.ranking import whoosh_top
from search.schema import make_schema

KEY = bytes(range(100, 132))
OTHER_KEY = bytes(range(200, 232))
EVERYTHING = Visibility(everything=True)
T0 = datetime(2026, 3, 1, tzinfo=UTC)

SECRET = (
    "关于冷链仓库的验收报告：供应商承诺十月前交付制冷机组，合同金额保密，违约赔偿另议。"
    "The supplier guarantees refrigerated compressors before October; penalties apply."
)
CONFIDENTIAL = IndexDoc(
    "r-secret", "v-secret", "季度材料", SECRET, "P1-2026-03-1.0", "P1", "RL", "confidential", T0
)
OTHERS = [
    IndexDoc("r-a", "v-a", "会议纪要", "年度预算会议 budget meeting", "P2-2026-03-1.0", "P2",
             "CW", "internal", T0 + timedelta(days=1)),
    IndexDoc("r-b", "v-b", "通知", "放假安排 holiday notice", "P2-2026-03-1.1", "P2", "XZ",
             "public", T0 + timedelta(days=2)),
]  # fmt: skip


def distinctive(doc: IndexDoc) -> set[str]:
    """The content's words an attacker would look for (2+ CJK characters, 4+ Latin letters),
    as written and as the index would have stemmed them; minus what the metadata says."""
    metadata = set(words(" ".join([doc.title, doc.name, doc.project, doc.department])))
    found = set()
    for word in words(doc.content):
        if (word.isascii() and word.isalpha() and len(word) >= 4) or (
            not word.isascii() and len(word) >= 2
        ):
            found |= {word, *analyzer()(word)} if word.isascii() else {word}
    found = {t if isinstance(t, str) else t.text for t in found}
    return found - metadata


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    ix = SearchIndex(tmp_path / "index", KEY)
    ix.write([CONFIDENTIAL, *OTHERS])
    return ix


def test_no_word_of_a_confidential_document_can_be_read_from_the_index(
    index: SearchIndex,
) -> None:
    secret = distinctive(CONFIDENTIAL)
    assert {"冷链", "验收报告", "制冷机", "supplier", "refriger", "compressor"} <= secret
    files = [p for p in index.directory.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        shown = sorted(w for w in secret if w.encode("utf-8") in data)
        assert not shown, f"{path.name} holds {shown}"
        for form in (KEY, KEY.hex().encode(), base64.b64encode(KEY)):
            assert form not in data, f"{path.name} holds the key"
    with whoosh_index.open_dir(str(index.directory)).reader() as reader:
        for field, term in reader.all_terms():
            text = term.decode("utf-8", errors="replace")
            assert text not in secret, (field, text)
            if field in ("title", "content", "content_terms", "name_text", "project_text"):
                assert re.fullmatch(r"[A-Za-z0-9_-]{12}", text), (field, text)
        for stored in reader.all_stored_fields():
            assert not any(w in str(value) for w in secret for value in stored.values())


def test_with_the_key_words_phrases_facets_and_snippets_still_work(index: SearchIndex) -> None:
    def found(text: str) -> set[str]:
        return {hit.record_id for hit in index.search(text, EVERYTHING).hits}

    assert found("冷链仓库") == found("冷鏈倉庫") == {"r-secret"}  # either script
    assert found("COMPRESSOR penalty") == {"r-secret"}  # lower-cased and stemmed
    assert found('"验收报告"') == found('"refrigerated compressors"') == {"r-secret"}
    assert found('"compressors refrigerated"') == set()
    assert found("budget OR 保密") == {"r-a", "r-secret"}
    results = index.search("供应商 OR 放假", EVERYTHING)
    assert results.total == 2
    assert results.facets["sensitivity"] == {"confidential": 1, "public": 1}
    assert results.facets["department"] == {"RL": 1, "XZ": 1}
    assert {hit.title for hit in results.hits} == {"季度材料", "通知"}  # stored as written
    hit = index.search(
        "冷鏈 compressor",
        EVERYTHING,
        snippets=one_by_one(lambda h, block: SECRET if h.record_id == "r-secret" else None),
    ).hits[0]
    assert hit.snippet is not None
    marked = re.findall(r"<mark[^>]*>([^<]+)</mark>", hit.snippet)
    assert "冷链" in marked
    assert "compressors" in marked or "compressors" not in hit.snippet


def test_another_key_means_a_rebuild_and_finds_nothing(index: SearchIndex) -> None:
    assert not index.needs_rebuild()
    other = SearchIndex(index.directory, OTHER_KEY)
    assert other.needs_rebuild()
    assert not index.keyed_by(OTHER_KEY)
    assert index.keyed_by(KEY)
    searcher, _ = index._current_searcher()
    for text in ("冷链仓库", '"验收报告"', "supplier", "季度材料"):
        assert list(searcher.docs_for_query(other.parse_query(text))) == []
        assert list(searcher.docs_for_query(index.parse_query(text))) != []
    index.close()
    assert other.doc_count() == 0  # opened as a new, empty index, to be rebuilt
    assert index.needs_rebuild()


def test_the_key_never_leaves_memory() -> None:
    hasher = TermHasher(KEY)
    with pytest.raises(TypeError):
        pickle.dumps(hasher)
    with pytest.raises(ValueError, match="128 bits"):
        TermHasher(b"short")
    assert hasher.fingerprint == TermHasher(KEY).fingerprint != TermHasher(OTHER_KEY).fingerprint
    assert hasher.fingerprint not in {hasher.term(""), hasher.term("index key fingerprint")}
    pickle.dumps(make_schema())  # what Whoosh stores: nothing keyed in it


WORDS = ["合同", "仓储", "预算", "验收", "报告", "supplier", "reports", "会议", "绿色", "通道"]


def corpus(count: int) -> list[IndexDoc]:
    rng = random.Random(11)  # noqa: S311 - a reproducible corpus
    return [
        IndexDoc(
            record_id=f"r{n}",
            version_id=f"v{n}",
            title=rng.choice(WORDS) + rng.choice(["", " 綠色", " Report"]),
            content=" ".join(rng.choices(WORDS, k=rng.randint(1, 30))),
            name=f"项目{n % 7}-2025-01-1.0",
            project=f"项目{n % 7}",
            department=rng.choice(["XS", "CG", "RL"]),
            sensitivity=rng.choice(["public", "internal", "confidential"]),
            filed=T0 + timedelta(hours=rng.randrange(5000)),
        )
        for n in range(count)
    ]


QUERIES = [
    "合同",
    "仓储 验收",
    "预算 OR supplier",
    "仓储 NOT 绿色",
    "report",
    "綠色通道",
    '"绿色 通道"',
    '"验收 报告"',
    "supplier AND 合同",
    "项目3",
]


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> whoosh_index.FileIndex:
    """The index as it was before hashing: the same fields, words analysed by Whoosh."""
    schema = make_schema(analyzer())
    ix = whoosh_index.create_in(str(tmp_path_factory.mktemp("plain")), schema)
    with ix.writer() as writer:
        for doc in corpus(400):
            writer.add_document(
                record_id=doc.record_id,
                version_id=doc.version_id,
                title=doc.title,
                content=doc.content,
                content_terms=doc.content,
                name=doc.name,
                name_text=doc.name,
                project=doc.project,
                project_text=doc.project,
                department=doc.department,
                sensitivity=doc.sensitivity,
                filed=doc.filed.replace(tzinfo=None),
            )
    return ix


@pytest.fixture(scope="module", params=["one writer", "bulk load on 2 processes"])
def hashed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    ix = SearchIndex(tmp_path_factory.mktemp("hashed") / "index", KEY)
    if request.param == "one writer":
        ix.write(corpus(400))
    else:
        ix.create()
        ix.bulk_load(corpus(400), procs=2)
    return ix


def plain_search(searcher: Any, text: str) -> tuple[set[int], list[tuple[str, float]]]:
    """The matches and the ranking the code before hashing gave: its query on words, its
    set evaluation and block scoring, Whoosh for phrases (statistics over everything)."""
    query = parse_query(text, make_schema(analyzer()))
    sets = DocSets(searcher)
    matched = sets.matching(query) & sets.live()
    everything = Population(sets, [])
    best = sets.top(query, matched, 100, everything)
    if best is None:
        best = whoosh_top(searcher, query, matched, 100, everything)
    return matched, [(searcher.stored_fields(d)["record_id"], round(s, 9)) for d, s in best]


@pytest.mark.parametrize("text", QUERIES)
def test_ranking_totals_and_facets_are_those_of_plain_words(
    plain: whoosh_index.FileIndex, hashed: SearchIndex, text: str
) -> None:
    with plain.searcher() as searcher:
        matched, expected = plain_search(searcher, text)
        stored = [searcher.stored_fields(d) for d in matched]
    results = hashed.search(text, EVERYTHING, per_page=100)
    got = [(hit.record_id, round(hit.score, 9)) for hit in results.hits]
    assert results.total == len(matched) > 0
    if len(hashed._current_searcher()[0].leaf_searchers()) == 1:
        assert got == expected  # the same document numbers: ties fall the same way
    else:  # two segments number documents otherwise: ties may fall otherwise, and a tie
        # at the cut of the top 100 may keep another of the tied records
        cut = min(score for _, score in expected)
        assert sorted(s for _, s in got) == sorted(s for _, s in expected)
        assert {hit for hit in got if hit[1] > cut} == {hit for hit in expected if hit[1] > cut}
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    for facet in FACETS:
        naive: dict[str, int] = {}
        for fields in stored:
            if fields.get(facet):
                naive[fields[facet]] = naive.get(fields[facet], 0) + 1
        assert results.facets[facet] == naive
