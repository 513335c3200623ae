"""Which learners' claims can be sent: the export tick's bulk answer agrees with the learner page's."""

from __future__ import annotations

from sqlalchemy import select

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.services.claim_readiness import (
    consented,
    has_consent,
    missing_for,
    missing_given,
    ready_learners,
    set_consent,
)
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


def test_the_learner_page_s_bulk_consent_agrees_with_asking_per_credential(runtime: Runtime) -> None:
    with write_session(runtime.sessions) as session:
        person = learner(session, "1")
        set_consent(session, person.id, CREDENTIAL, given=True)
        set_consent(session, person.id, "aama-cma", given=True)
        set_consent(session, person.id, "aama-cma", given=False)
        learner_2 = learner(session, "2")
        set_consent(session, learner_2.id, "amt-rma", given=True)
        stands = consented(session, person.id)
        assert stands == {CREDENTIAL}
        for credential in (CREDENTIAL, "aama-cma", "amt-rma"):
            assert (credential in stands) == has_consent(session, person.id, credential)


def test_missing_from_what_was_read_agrees_with_missing_for(runtime: Runtime) -> None:
    with write_session(runtime.sessions) as session:
        cases = [learner(session, "1", number={CREDENTIAL: "CMSS-1"}), learner(session, "2", number={CREDENTIAL: " "}),
                 learner(session, "3")]
        set_consent(session, cases[0].id, CREDENTIAL, given=True)
        for person in cases:
            number = session.scalar(select(models.LearnerCredential.number).where(
                models.LearnerCredential.learner_id == person.id))
            for requires in ([], ["number"], ["consent"], ["number", "consent"]):
                given = missing_given(requires, number=number, consent=has_consent(session, person.id, CREDENTIAL))
                assert given == missing_for(session, person.id, CREDENTIAL, requires), (person.lms_user_id, requires)
