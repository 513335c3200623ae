"""Credit rules: the plugin interface, discovery of provider plugins, and renewal progress.

This layer is pure: it knows nothing of the database or the web.
"""
