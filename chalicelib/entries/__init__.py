"""Lightweight Lambda entry points for the public, unauthenticated surfaces.

``app.py`` registers every blueprint (local development, the test client and
the admin API function use it).  In the deployed stack the WeChat callback and
the phone pages + screen API run in functions of their own, built from these
modules: each imports only its own blueprints, so its cold start is short and
its role (derived from what it imports, ``infra.access``) holds none of the
admin API's rights.  ``infra.public`` wires them into the template.
"""
