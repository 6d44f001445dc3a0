"""Domain rules, one package per feature.  Handlers call these; these call the data layer, models and WeChat.

- ``gateway``: WeChat messages and events, exactly once; the official accounts, their cached look-ups and
  shared access tokens;
- ``subscriptions``: fans subscribing to screens, the phone pages' identity and data, personal data (PIPL);
- ``push``: publishing to phones: planner, sender, channels, ledger, digest;
- ``screens``: screens and the player: registration, manifests, playlists, reports, the live columns;
- ``content``: content and its workflow, previews, targets, media, reads, safe text;
- ``access``: units, users, grants, console sessions and sign-in, the audit log;
- ``analytics``: roll-ups, series, rankings, exports and the console's home feed;
- ``shared``: what every feature's admin writes use: errors, pagination, optimistic writes, idempotency.

Package ``__init__`` modules import nothing, so each Lambda function loads only the modules it runs.
"""
