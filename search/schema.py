"""The index schema, and its version: an index written with another version is rebuilt."""

from __future__ import annotations

from whoosh.analysis import Composable
from whoosh.columns import RefBytesColumn
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema

from search.analysis import HashedTermsTokenizer

#: Bump when fields or analysis change; an index with another version is rebuilt.
#: 2: facet fields became columns (facet counting read every posting before).
#: 3: ``content_terms``, the text again without positions: words are looked up there (a
#:    third of the decoding); phrases still use ``content``.
#: 4: text fields hold keyed hashes of the terms, not words (issue 18 §9); the unused
#:    ``keywords`` field is gone (it would have held words in the clear).
#: 5: ``blocks``, each document's block map (:mod:`search.blocks`): snippets read a page of
#:    text, not the whole text; ``content`` is analysed piece by piece to match it.
#: 6: the description (issue 20): ``author`` and ``doc_number`` stored and filtered on
#:    (``doc_number_key``, the folded 文号), ``description_text`` searched.
#: 7: 责任者, 文号 and 备注 analysed each alone (joined, the normaliser ran them together).
SCHEMA_VERSION = 8  # 8: filed is the document's date; dated stored


#: Facet values are few and repeat: a column of references to unique values reads fastest.
_FACET = RefBytesColumn()


def make_schema(text: Composable | None = None) -> Schema:
    """The index's schema; its text fields take hashed terms (:class:`HashedTermsTokenizer`).
    With ``text`` (the keyed analyzer), the same fields for parsing queries: that schema
    holds the key and is never written anywhere."""
    text = HashedTermsTokenizer() if text is None else text
    return Schema(
        record_id=ID(stored=True, unique=True),
        version_id=ID(stored=True),
        title=TEXT(analyzer=text, stored=True, field_boost=3.0),
        content=TEXT(analyzer=text),  # with positions: phrases
        content_terms=TEXT(analyzer=text, phrase=False),  # frequencies only: words
        name=ID(stored=True),  # 项目名称-日期-版本号 of the latest version
        name_text=TEXT(analyzer=text, field_boost=2.0),
        reference_code=ID(stored=True),  # 档号
        project=ID(stored=True, sortable=_FACET),
        project_text=TEXT(analyzer=text),
        author=ID(stored=True),  # 责任者, filtered on exactly
        doc_number=ID(stored=True),  # 文号 as written
        doc_number_key=ID(),  # 文号 folded (archive.description.doc_number_key)
        description_text=TEXT(analyzer=text),  # 责任者, 文号, 备注: found by words
        department=ID(stored=True, sortable=_FACET),
        process=ID(stored=True, sortable=_FACET),
        stage=ID(stored=True, sortable=_FACET),
        record_type=ID(stored=True, sortable=_FACET),
        sensitivity=ID(stored=True, sortable=_FACET),
        retention_code=ID(stored=True, sortable=_FACET),
        filed=DATETIME(stored=True, sortable=True),  # the document's date, not the upload's
        dated=STORED(),  # that date as given: the month alone when the day is unknown
        size=NUMERIC(stored=True),
        extra=STORED(),
        blocks=STORED(),  # token positions where each ~2 KiB piece of text starts: no words
    )
