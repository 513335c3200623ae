"""The ``lti-tool`` command line."""
