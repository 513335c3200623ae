"""LMS events: each source's wire format parsed into a :class:`Completion` (or an ignored event)."""
