"""The pages' CSRF protection (Flask-WTF), one object: ``lti.init_app`` installs it on the app and
:func:`lti_tool.web.lti.context.check_csrf` runs it for every form. It keeps no per-app state (it
reads ``current_app``), so one instance serves every app."""

from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
