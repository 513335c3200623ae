"""Who a launch is, by the LTI role vocabulary, with least privilege.

Administrator: context or institution administrators, and content developers (they build courses).
Instructor: instructors (and teaching assistants, a sub-role) of the launch's own context. Everyone
else, including unknown roles and no roles at all, sees the learner page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Role = Literal["administrator", "instructor", "learner"]

CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"

ADMINISTRATOR_ROLES = frozenset({
    CONTEXT + "Administrator",
    CONTEXT + "ContentDeveloper",
    INSTITUTION + "Administrator",
})
INSTRUCTOR_ROLES = frozenset({
    CONTEXT + "Instructor",
    CONTEXT + "Instructor#TeachingAssistant",
})
SUB_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership/"
"""Sub-roles name their principal role in the path: ``membership/Instructor#TeachingAssistant``."""
SHORT_CONTEXT_ROLES = {"Administrator", "ContentDeveloper", "Instructor", "Learner", "Mentor"}


def full_name(role: str) -> str:
    """LTI 1.3 allows simple names for context roles ("Instructor"); expand them. A context sub-role
    (``membership/Instructor#TeachingAssistant``) counts as its principal role."""
    role = role.strip()
    if role in SHORT_CONTEXT_ROLES:
        return CONTEXT + role
    if role.startswith(SUB_ROLE) and "#" in role:
        principal = role[len(SUB_ROLE):].split("#", 1)[0]
        if principal in ("Administrator", "ContentDeveloper", "Instructor"):
            return CONTEXT + principal
    return role


def classify(roles: Iterable[str], has_context: bool) -> Role:
    names = {full_name(r) for r in roles if isinstance(r, str)}
    if not has_context:
        return "learner"  # both pages are about one course: without a context there is none
    if names & ADMINISTRATOR_ROLES:
        return "administrator"
    if names & INSTRUCTOR_ROLES:
        return "instructor"
    return "learner"
