"""LTI 1.3 tool that turns LMS course completions into continuing-education credit.

Importing the package has no side effects and pulls in neither Flask nor SQLAlchemy, so provider
plugins can import :mod:`lti_tool.credits.api` and stay pure. The web app is built by
:func:`lti_tool.web.app.create_app`.
"""

__version__ = "0.1.0"
