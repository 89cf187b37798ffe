"""User input as a Whoosh query: words, phrases, AND/OR/NOT and grouping, nothing more."""

from __future__ import annotations

from whoosh import query as q
from whoosh.fields import Schema
from whoosh.qparser import MultifieldParser, QueryParserError, plugins

from archive.description import is_doc_number
from archive.errors import DomainError

SEARCHED = ("title", "content_terms", "name_text", "project_text", "description_text")
#: The fields that hold a document's text (what only a reader may search: see Index.search).
TEXT_FIELDS = frozenset({"content", "content_terms"})
MAX_QUERY_CHARS = 1000


class QueryError(DomainError, ValueError):
    """The query cannot be run; the message is safe to show the user."""


def parse_query(text: str, schema: Schema) -> q.Query:
    """Parse user input against ``schema`` (the keyed one: terms come out hashed); anything
    that cannot be a query raises :class:`QueryError`."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    if not cleaned:
        raise QueryError("the query is empty")
    if len(cleaned) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    if is_doc_number(cleaned):  # a 文号 is one thing: its words together, not anywhere
        cleaned = '"' + "".join(cleaned.split()) + '"'
    parser = MultifieldParser(list(SEARCHED), schema)  # terms are ANDed, like a search box
    # Only words, quoted phrases, AND/OR/NOT and grouping: no field names, wildcards, ranges
    # or fuzzy terms from users (slow queries and probing other fields).
    for plugin in (
        plugins.WildcardPlugin,
        plugins.FieldsPlugin,
        plugins.RangePlugin,
        plugins.BoostPlugin,
        plugins.RegexPlugin,
    ):
        parser.remove_plugin_class(plugin)
    try:
        parsed = parser.parse(cleaned)
    except (QueryParserError, ValueError, IndexError) as exc:  # IndexError: "NOT NOT x"
        raise QueryError(f"the query cannot be read: {exc}") from None
    if parsed is q.NullQuery or isinstance(parsed, q.NullQuery.__class__):
        raise QueryError("the query has no words to search for")
    return _phrases_on_positions(parsed)


def _phrases_on_positions(query: q.Query) -> q.Query:
    """Words are looked up in ``content_terms`` (no positions); phrases need ``content``."""
    if isinstance(query, q.Phrase) and query.fieldname == "content_terms":
        return q.Phrase("content", query.words, slop=query.slop, boost=query.boost)
    return query.apply(_phrases_on_positions)  # leaves come back as they are


def touches_text(query: q.Query) -> bool:
    """Whether any part of ``query`` looks in a document's text."""
    return any(field in TEXT_FIELDS for field, _ in query.iter_all_terms(phrases=True))


def without_text(query: q.Query) -> q.Query:
    """``query`` as it runs on a document whose text the caller may not search: every part
    that looks in the text matches nothing there, the description still does."""

    def strip(part: q.Query) -> q.Query:
        if isinstance(part, q.Term | q.Phrase) and part.fieldname in TEXT_FIELDS:
            return q.NullQuery
        return part.apply(strip)

    return strip(query).normalize()
