"""The push sender's parts: pacing (send window, account rate, deadline), the batch ledger, metrics.

``chalicelib.services.push_sender`` puts them together; the planner is
``push_planner``.  See docs/push.md.
"""
