"""The learner's renewal, measured once per request: the learner page measures it for its cards and
keeps it here, and the page's renewal partials read it back instead of measuring again.

A leaf module, so the learner page and its renewal forms (which re-render that page on a field
error) can both import it without importing each other.
"""

from __future__ import annotations

from datetime import datetime

from flask import g

from lti_tool.runtime import current_runtime
from lti_tool.web.lti.context import current_launch, platform_of, reading
from lti_tool.web.views import renewal_view


def keep_renewal(page: renewal_view.RenewalPage) -> None:
    """The renewal the learner page measured already, for this request's partials."""
    g.learner_renewal = page


def learner_renewal() -> renewal_view.RenewalPage:
    """The launched learner's renewal: the one kept for this request, else measured (and kept)."""
    if "learner_renewal" not in g:
        launch = current_launch()
        rt = current_runtime()
        with reading() as db:
            platform = platform_of(db, launch)
            g.learner_renewal = renewal_view.renewal_page(
                db, rt.rulebook, identity_id=platform.source_id, user=launch.lms_user_id,
                on=datetime.now(rt.settings.zone).date(), zone=rt.settings.zone)
    page: renewal_view.RenewalPage = g.learner_renewal
    return page
