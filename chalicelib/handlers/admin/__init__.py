"""The admin HTTP API under ``/api/v1``: one blueprint per resource, registered in ``app.py``."""
