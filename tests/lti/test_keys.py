"""Tool key rotation: the next key is published before it signs, the old one stays for a grace period."""

from __future__ import annotations

from datetime import timedelta

from lti_tool import models
from lti_tool.db import write_session
from lti_tool.lti import keys
from lti_tool.runtime import Runtime


def test_the_old_key_signs_until_the_new_one_activates(runtime: Runtime) -> None:
    with write_session(runtime.sessions) as session:
        first = keys.ensure_key(session)
        assert first is not None
        new = keys.rotate(session, publish_ahead=timedelta(hours=1), grace=timedelta(days=1))
        now = models.utcnow()
        assert keys.signing_key(session, now).kid == first.kid
        assert keys.signing_key(session, now + timedelta(hours=2)).kid == new.kid
        published_later = {k.kid for k in keys.published(session, now + timedelta(hours=2))}
        assert published_later == {first.kid, new.kid}
        gone = {k.kid for k in keys.published(session, now + timedelta(days=2))}
        assert gone == {new.kid}


def test_published_keys_hold_no_private_parts(runtime: Runtime) -> None:
    with write_session(runtime.sessions) as session:
        keys.ensure_key(session)
        [jwk] = keys.jwks(session)["keys"]
    assert set(jwk) == {"kty", "n", "e", "kid", "alg", "use"}
