"""Every content endpoint × role × sensitivity × department × grant state → the right status,
and one access-log line per attempt with the right outcome."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from archive.db import utcnow
from archive.models import AccessEvent, Grant, Role, Scope, User
from tests.access.conftest import LEVELS, World, make_world

STATES = ("none", "active", "expired", "revoked", "wrong_scope")
ENDPOINTS = ("metadata", "view", "download", "print", "external")
ROLES = list(Role)
#: What each grant state's grant lets its holder do (none, or not active: nothing).
GRANTED = {"active": {"view", "download"}, "wrong_scope": {"view"}}


def expected(role: Role, department: str, level: str, state: str, endpoint: str) -> int:
    """The policy of the access issue, restated from its text for users of department CG;
    administrators of either kind know and read nothing, not even with a grant (三员分立)."""
    if role in (Role.ADMIN, Role.SECURITY_ADMIN):
        return 404
    active = state in GRANTED
    knows = (
        level in ("public", "internal")
        or active
        or (level == "confidential" and department == "CG")
        or (level == "restricted" and role == Role.DIRECTOR)
    )
    if not knows:
        return 404
    if endpoint == "metadata":
        return 200
    head_of_cg = role in (Role.SUPERVISOR, Role.DIRECTOR) and department == "CG"
    standing = endpoint != "external" and (
        (head_of_cg and level != "restricted") or (role == Role.DIRECTOR and level == "restricted")
    )
    # Every user here is cleared for confidential: a grant opens nothing above that, except
    # for directors, who read restricted records by standing anyway.
    cleared = level != "restricted" or role == Role.DIRECTOR
    granted = active and endpoint in GRANTED[state] and cleared
    return 200 if standing or granted else 403


def _grant(world: World, username: str, state: str) -> None:
    now = utcnow()
    with world.arc.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        for record_id in world.records.values():
            grant = Grant(
                user_id=user.id,
                record_id=record_id,
                scope=Scope.VIEW if state == "wrong_scope" else Scope.DOWNLOAD,
                valid_from=now - timedelta(days=10),
                valid_until=now + timedelta(days=10),
            )
            if state == "expired":
                grant.valid_until = now - timedelta(days=1)
            if state == "revoked":
                grant.revoked_at, grant.revoke_reason = now - timedelta(hours=1), "项目结束"
            session.add(grant)


def test_every_endpoint_role_level_and_grant_state(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    for role in ROLES:
        for state in STATES:
            username = f"{role.value}-{state}".replace("_", "")
            world.add_user(username, role, "CG")
            if state != "none":
                _grant(world, username, state)
    attempts = mismatches = 0
    wrong: list[str] = []
    for role in ROLES:
        for state in STATES:
            username = f"{role.value}-{state}".replace("_", "")
            for department in ("CG", "XS"):
                for level in LEVELS:
                    key = f"{department}-{level}"
                    for endpoint in ENDPOINTS:
                        if endpoint == "metadata":
                            path = f"/api/v1/records/{world.records[key]}"
                        else:
                            path = (
                                f"/api/v1/versions/{world.versions[key]}/content?action={endpoint}"
                            )
                        response = world.call("GET", username, path)
                        attempts += 1
                        want = expected(role, department, level, state, endpoint)
                        if response.status_code != want:
                            mismatches += 1
                            wrong.append(
                                f"{username} {endpoint} {key}: {response.status_code} != {want}"
                            )
                        if want == 200 and endpoint != "metadata":
                            assert f"正文 {key}".encode() in response.data
    assert not wrong, f"{mismatches} of {attempts}:\n" + "\n".join(wrong[:20])
    with world.arc.sessions() as session:
        logged = session.scalar(select(func.count()).select_from(AccessEvent))
        refused = session.scalar(
            select(func.count()).select_from(AccessEvent).where(AccessEvent.outcome == "refused")
        )
    assert logged == attempts
    assert refused == sum(
        1
        for role in ROLES
        for state in STATES
        for department in ("CG", "XS")
        for level in LEVELS
        for endpoint in ENDPOINTS
        if expected(role, department, level, state, endpoint) != 200
    )
    world.arc.close()
