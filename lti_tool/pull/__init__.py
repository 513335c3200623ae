"""Pulling completions from an LMS's API: the counterpart of :mod:`lti_tool.events`, which receives
them. Each client turns its LMS's answers into the same :class:`lti_tool.events.completion.Completion`."""
