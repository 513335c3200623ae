"""LTI 1.3: platform registrations, tool keys, OIDC login, launch validation, roles and identity.

Plain services over the database session; the Flask views in :mod:`lti_tool.web.lti` call them.
"""
