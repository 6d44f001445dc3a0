"""Screens and the player: what a screen is, what it shows, and what it reports.

- ``registry``: registration with a player key and a WeChat QR code, edits, moves;
- ``manifests`` / ``manifest_store``: each screen's public manifest, built and stored in the player bucket;
- ``playlist``: what a screen shows at a moment (the phone's mirror of the player);
- ``reports``: heartbeats and proof of play; ``live``: the screens table's live columns;
- ``catalogue``: the screens a fan can subscribe to, near ones first.
"""
