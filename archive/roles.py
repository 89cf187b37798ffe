"""Role groups, each defined once and named for what its members are.

Every layer asks these, never a set of roles of its own: the permission table
(``access.policy.PERMISSIONS``) says which group may do what, retention asks who heads a
department when it matches a signer to a slot. A group names people, not a page or an
endpoint, so the API, the web pages and the CLI cannot drift apart.
"""

from __future__ import annotations

from archive.models import Role

#: Head a department (主管, 总监): decide its access requests, open the green channel, sign
#: its disposition lists, record its retention events.
DEPARTMENT_HEADS = frozenset({Role.SUPERVISOR, Role.DIRECTOR})
#: 总监: decide restricted records' requests and external use; read contracts by standing.
DIRECTORS = frozenset({Role.DIRECTOR})
#: 档案管理员: the file plan, classification, retention, holds and disposition.
RECORDS_MANAGERS = frozenset({Role.RECORDS_MANAGER})
#: 安全审计员: the access log, the alerts, both hash chains, and everyone's changes to
#: people, administrators' and security administrators' own actions included.
AUDITORS = frozenset({Role.AUDITOR})
#: 系统管理员: people, departments and keys; never records, and no privileged change to a
#: person without a security administrator's approval (三员分立).
ADMINISTRATORS = frozenset({Role.ADMIN})
#: 安全保密管理员: approve or reject the administrators' privileged changes; manage nobody
#: directly and read no records.
SECURITY_ADMINS = frozenset({Role.SECURITY_ADMIN})
#: Everyone but the two administrators: may search, see what they may know of, and ask to
#: read.
STAFF = frozenset(set(Role) - ADMINISTRATORS - SECURITY_ADMINS)
#: Work in a department, so they need one (专员, 主管, 总监).
DEPARTMENT_STAFF = frozenset({Role.SPECIALIST, *DEPARTMENT_HEADS})
#: May file documents (upload, API, hot folder on their behalf).
UPLOADERS = DEPARTMENT_STAFF | RECORDS_MANAGERS
#: Roles beyond a specialist's: granting one is a privileged change (asks the administrator's
#: password again, and takes effect only when a security administrator approves it).
PRIVILEGED = frozenset(set(Role) - {Role.SPECIALIST})
