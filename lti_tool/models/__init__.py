"""Database models (SQLAlchemy 2, typed). Import from here: ``from lti_tool import models``."""

from lti_tool.models.award import Award, LedgerEntry
from lti_tool.models.base import Base, utcnow
from lti_tool.models.completion import CourseCompletion
from lti_tool.models.consent import ReportConsent
from lti_tool.models.learner import Learner, LearnerCredential
from lti_tool.models.lms_event import LmsEvent
from lti_tool.models.lti import (
    AppSecret,
    AuditEntry,
    Deployment,
    LaunchSession,
    LaunchState,
    Platform,
    ToolKey,
    UsedNonce,
)
from lti_tool.models.mapping import CourseMapping
from lti_tool.models.outbox import ExportAttempt, ExportBatch, OutboxClaim
from lti_tool.models.reconciliation import (
    ReconcileLease,
    ReconcileMark,
    ReconcileRequest,
    ReconcileRun,
    SourceConnection,
)
from lti_tool.models.source import Source

__all__ = [
    "Award",
    "Base",
    "CourseCompletion",
    "CourseMapping",
    "ExportAttempt",
    "ExportBatch",
    "LedgerEntry",
    "Learner",
    "LearnerCredential",
    "LmsEvent",
    "OutboxClaim",
    "ReportConsent",
    "Source",
    "utcnow",
    "AppSecret",
    "AuditEntry",
    "Deployment",
    "LaunchSession",
    "LaunchState",
    "Platform",
    "ToolKey",
    "UsedNonce",
    "ReconcileLease",
    "ReconcileMark",
    "ReconcileRequest",
    "ReconcileRun",
    "SourceConnection",
]
