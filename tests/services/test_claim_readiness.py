"""Which learners' claims can be sent: the export tick's bulk answer agrees with the learner page's."""

from __future__ import annotations

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.services.claim_readiness import missing_for, ready_learners, set_consent
from tests.exports.ledger_rows import learner

CREDENTIAL = "acmss-cmss"


def test_ready_learners_are_exactly_those_missing_nothing(runtime: Runtime) -> None:
    with write_session(runtime.sessions) as session:
        numbered_consenting = learner(session, "1", number={CREDENTIAL: "CMSS-1"})
        numbered_withdrawn = learner(session, "2", number={CREDENTIAL: "CMSS-2"})
        blank_number = learner(session, "3", number={CREDENTIAL: "  "})
        other_credential_number = learner(session, "4", number={"aama-cma": "CMA-4"})
        nothing = learner(session, "5")
        for person in (numbered_consenting, numbered_withdrawn, blank_number, other_credential_number):
            set_consent(session, person.id, CREDENTIAL, given=True)
        set_consent(session, numbered_withdrawn.id, CREDENTIAL, given=False)
        everyone = [numbered_consenting, numbered_withdrawn, blank_number, other_credential_number, nothing]
        ids = {p.id for p in everyone}

        for requires in ([], ["number"], ["consent"], ["number", "consent"]):
            expected = {p.id for p in everyone if not missing_for(session, p.id, CREDENTIAL, requires)}
            assert ready_learners(session, ids, CREDENTIAL, requires) == expected, requires
        assert ready_learners(session, ids, CREDENTIAL, ["number", "consent"]) == {numbered_consenting.id}


def test_only_the_learners_asked_about_are_answered(runtime: Runtime) -> None:
    with write_session(runtime.sessions) as session:
        asked = learner(session, "1", number={CREDENTIAL: "CMSS-1"})
        learner(session, "2", number={CREDENTIAL: "CMSS-2"})
        assert ready_learners(session, {asked.id}, CREDENTIAL, ["number"]) == {asked.id}
        assert ready_learners(session, set(), CREDENTIAL, ["number"]) == set()
        assert session.query(models.Learner).count() == 2
