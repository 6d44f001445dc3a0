"""One typed contract per wire format, imported by its producer and its consumer alike.

Each module describes one format that crosses a boundary (a queue, the player
bucket, a URL, a stored key) and owns its parsing, validation and
serialisation, so the two ends cannot drift apart:

- ``ids``: appid, openid and screen code;
- ``windows``: weekly play windows ("Mon 08:00-18:00", overnight allowed);
- ``article_html``: the allow-list for article HTML (stored, phone page, screen);
- ``player_keys``: minting and hashing screens' player keys;
- ``manifest``: the screen manifest the player reads;
- ``rebuild``: the manifest queue's rebuild message.

The modules import nothing from the rest of ``chalicelib`` (no tables, no AWS),
so every layer may use them and they are tested without the emulator.
"""
