"""Database models (SQLAlchemy 2, typed). Import from here: ``from lti_tool import models``."""

from lti_tool.models.award import Award, LedgerEntry
from lti_tool.models.base import Base, utcnow
from lti_tool.models.completion import CourseCompletion
from lti_tool.models.consent import ReportConsent
from lti_tool.models.learner import Learner, LearnerCredential
from lti_tool.models.lifecycle import CertificateCode, Reminder, ReminderOptOut
from lti_tool.models.lms_event import LmsEvent
from lti_tool.models.lti import (
    AppSecret,
    AuditEntry,
    Deployment,
    LaunchSession,
    Platform,
    ToolKey,
    UsedNonce,
)
from lti_tool.models.mapping import CourseMapping
from lti_tool.models.outbox import ExportAttempt, ExportBatch, OutboxClaim
from lti_tool.models.outside import OUTSIDE_STATES, OutsideCredit
from lti_tool.models.reconciliation import (
    ReconcileLease,
    ReconcileMark,
    ReconcileRequest,
    ReconcileRun,
    SourceConnection,
)
from lti_tool.models.renewal import RenewalConfirmation
from lti_tool.models.source import Source
from lti_tool.states import (
    OPEN_BATCH_STATUSES,
    AttemptOutcome,
    BatchStatus,
    ClaimState,
    EntryKind,
    EventStatus,
    OutsideStatus,
    ReminderStatus,
)

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
    "OUTSIDE_STATES",
    "OutsideStatus",
    "ReminderStatus",
    "OutsideCredit",
    "RenewalConfirmation",
    "ReportConsent",
    "Source",
    "utcnow",
    "AppSecret",
    "AuditEntry",
    "Deployment",
    "LaunchSession",
    "Platform",
    "ToolKey",
    "UsedNonce",
    "AttemptOutcome",
    "BatchStatus",
    "ClaimState",
    "EntryKind",
    "EventStatus",
    "OPEN_BATCH_STATUSES",
    "CertificateCode",
    "Reminder",
    "ReminderOptOut",
    "ReconcileLease",
    "ReconcileMark",
    "ReconcileRequest",
    "ReconcileRun",
    "SourceConnection",
]
