"""Event sources: an LMS (or LRS feed) that posts completion events to the tool."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.models.base import Base, Id, UtcDateTime, utcnow


class Source(Base):
    """A registered event source.

    The URL token and the secret are stored only as SHA-256 digests: both are random, so a digest is
    enough to recognize them, and a leaked database does not leak working credentials.
    ``identity_source_id`` names another source whose learner and course ids this one shares (the
    same Canvas seen through Live Events and through xAPI), so the same completion is credited once.
    """

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    jwks_url: Mapped[str | None] = mapped_column(String(2000))
    identity_source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def identity_id(self) -> int:
        """The source whose learners and courses this source's events name."""
        return self.identity_source_id or self.id
