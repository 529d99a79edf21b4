"""Who may trigger mendbot: repository owners, members and collaborators only.

Comments carry an ``author_association``; when it is not trusted (an organisation member with
private membership shows up as CONTRIBUTOR, for instance) the sender's permission on the
repository decides. Label events carry no association for the person who added the label, so
the sender's permission always decides there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.github.client import TRUSTED_PERMISSIONS
from bot.github.events import GitHubEvent

TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})


@dataclass(frozen=True)
class TrustDecision:
    trusted: bool
    reason: str


def check_trust(event: GitHubEvent, permission_of: Callable[[str], str]) -> TrustDecision:
    """Decide whether the person behind ``event`` may make mendbot act."""
    login = event.sender.login
    if not login:
        return TrustDecision(False, "the event names no sender")
    if event.is_comment and event.author.login and event.author.login != login:
        return TrustDecision(False, f"the comment author differs from the sender {login}")
    association = event.author_association.upper()
    if event.is_comment and association in TRUSTED_ASSOCIATIONS:
        return TrustDecision(True, f"{login} is {association}")
    permission = permission_of(login).lower()
    if permission in TRUSTED_PERMISSIONS:
        return TrustDecision(True, f"{login} has {permission} permission")
    shown = association or "no association"
    return TrustDecision(
        False,
        f"{login} ({shown}, {permission or 'no'} permission) is not an owner, member or "
        "collaborator with write access",
    )


def check_person(login: str, role: str, permission_of: Callable[[str], str]) -> TrustDecision:
    """Trust a person by their permission on the repository alone (a pull request's author,
    the pusher of a commit whose CI run failed)."""
    if not login:
        return TrustDecision(False, f"the event names no {role}")
    permission = permission_of(login).lower()
    if permission in TRUSTED_PERMISSIONS:
        return TrustDecision(True, f"{role} {login} has {permission} permission")
    return TrustDecision(
        False,
        f"{role} {login} ({permission or 'no'} permission) is not an owner, member or "
        "collaborator with write access",
    )
