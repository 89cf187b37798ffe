"""Who may know a record exists, and who reads by standing: table-driven, every role."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from access.policy import readable_for, reads_by_standing, visibility_for
from archive.models import Department, Role, Sensitivity, User
from search.index import IndexDoc, SearchIndex

LEVELS = ["public", "internal", "confidential", "restricted"]


def user(role: Role, department: str | None = "CG", clearance: str = "internal") -> User:
    dept = Department(code=department, name=department) if department else None
    return User(
        username=role.value,
        role=role,
        department=dept,
        clearance=Sensitivity(clearance),
        active=True,
    )


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    ix = SearchIndex(Path(tmp_path_factory.mktemp("policy")) / "index", bytes(32))
    ix.write(
        [
            IndexDoc(
                f"{dept}-{level}",
                f"v-{dept}-{level}",
                "档案",
                "项目 档案",
                "n",
                "p",
                dept,
                level,
                datetime(2026, 1, 1, tzinfo=UTC),
            )
            for dept in ("CG", "XS")
            for level in LEVELS
        ]
    )
    return ix


KNOWS = {
    # role: the records (department-level) it may know exist
    Role.SPECIALIST: {"CG-public", "CG-internal", "CG-confidential", "XS-public", "XS-internal"},
    Role.SUPERVISOR: {"CG-public", "CG-internal", "CG-confidential", "XS-public", "XS-internal"},
    Role.DIRECTOR: {
        "CG-public",
        "CG-internal",
        "CG-confidential",
        "CG-restricted",
        "XS-public",
        "XS-internal",
        "XS-restricted",
    },
    Role.RECORDS_MANAGER: {
        "CG-public",
        "CG-internal",
        "CG-confidential",
        "XS-public",
        "XS-internal",
    },
    Role.AUDITOR: {"CG-public", "CG-internal", "CG-confidential", "XS-public", "XS-internal"},
    Role.ADMIN: {"CG-public", "CG-internal", "CG-confidential", "XS-public", "XS-internal"},
    Role.SECURITY_ADMIN: {
        "CG-public",
        "CG-internal",
        "CG-confidential",
        "XS-public",
        "XS-internal",
    },
}


@pytest.mark.parametrize("role", list(Role))
def test_hits_counts_and_facets_follow_the_policy(index: SearchIndex, role: Role) -> None:
    results = index.search("档案", visibility_for(user(role)), per_page=100)
    assert {hit.record_id for hit in results.hits} == KNOWS[role]
    assert results.total == len(KNOWS[role])
    assert sum(results.facets["sensitivity"].values()) == len(KNOWS[role])
    assert results.facets["department"] == {
        dept: sum(1 for r in KNOWS[role] if r.startswith(dept)) for dept in ("CG", "XS")
    }


def test_without_a_department_only_what_all_staff_see(index: SearchIndex) -> None:
    results = index.search("档案", visibility_for(user(Role.SPECIALIST, None)), per_page=100)
    assert {hit.record_id for hit in results.hits} == {
        "CG-public",
        "CG-internal",
        "XS-public",
        "XS-internal",
    }


@pytest.mark.parametrize(
    ("role", "clearance", "department", "level", "reads"),
    [
        (Role.SPECIALIST, "restricted", "CG", "public", False),  # staff need a grant
        (Role.SUPERVISOR, "internal", "CG", "internal", True),  # head of the department
        (Role.SUPERVISOR, "internal", "CG", "confidential", False),  # above clearance
        (Role.SUPERVISOR, "confidential", "CG", "confidential", True),
        (Role.SUPERVISOR, "restricted", "XS", "public", False),  # another department
        (Role.DIRECTOR, "internal", "XS", "restricted", True),  # contracts: directors
        (Role.DIRECTOR, "internal", "XS", "internal", False),
        (Role.DIRECTOR, "confidential", "CG", "confidential", True),
        (Role.RECORDS_MANAGER, "restricted", "CG", "public", False),  # not readers by role
        (Role.AUDITOR, "restricted", "CG", "internal", False),
        (Role.ADMIN, "restricted", "CG", "public", False),
        (Role.SECURITY_ADMIN, "restricted", "CG", "public", False),
    ],
)
def test_standing_reading(
    role: Role, clearance: str, department: str, level: str, reads: bool
) -> None:
    assert reads_by_standing(user(role, "CG", clearance), department, level) is reads


@pytest.mark.parametrize("clearance", ["internal", "restricted"])
@pytest.mark.parametrize("role", list(Role))
def test_words_reach_the_text_exactly_where_standing_access_reads(
    index: SearchIndex, role: Role, clearance: str
) -> None:
    """项目 is only in the records' text: it finds what the person reads, nothing more."""
    person = user(role, "CG", clearance)
    found = index.search(
        "项目", visibility_for(person), per_page=100, readable=readable_for(person, [])
    )
    reads = {
        f"{dept}-{level}"
        for dept in ("CG", "XS")
        for level in LEVELS
        if f"{dept}-{level}" in KNOWS[role] and reads_by_standing(person, dept, level)
    }
    assert {hit.record_id for hit in found.hits} == reads
    assert found.total == len(reads)
    if role in (Role.RECORDS_MANAGER, Role.AUDITOR, Role.ADMIN, Role.SECURITY_ADMIN):
        assert reads == set()  # not readers: the words never reach a text


def test_a_grant_opens_the_text_to_words_up_to_the_clearance(index: SearchIndex) -> None:
    person = user(Role.SPECIALIST, "CG", "internal")
    granted: list[Any] = [
        SimpleNamespace(id="CG-internal", sensitivity=Sensitivity.INTERNAL),
        SimpleNamespace(id="CG-confidential", sensitivity=Sensitivity.CONFIDENTIAL),
    ]
    known = visibility_for(person, frozenset(str(g.id) for g in granted))
    found = index.search("项目", known, readable=readable_for(person, granted))
    assert [hit.record_id for hit in found.hits] == ["CG-internal"]  # confidential: above
    person.active = False
    assert index.search("项目", known, readable=readable_for(person, granted)).total == 0
