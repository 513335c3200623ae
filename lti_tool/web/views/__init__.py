"""What the pages behind a launch show and accept: the logic the blueprints in ``web/lti`` render,
kept apart from the LTI protocol (``lti_tool/lti``)."""
