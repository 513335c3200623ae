"""Web views. The app is built by :func:`lti_tool.web.app.create_app`."""
