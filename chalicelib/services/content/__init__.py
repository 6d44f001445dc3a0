"""Content: what a unit publishes, from draft to screens and phones.

- ``workflow``: the states and transitions (draft → review → published → withdrawn) and their writes;
- ``targets``: published content follows screens that are created, moved or re-tagged;
- ``preview``: the editor's push forecast and phone preview; ``view``: an item as the phone page shows it;
- ``media``: uploads by pre-signed POST; ``text``: plain text and sanitised article HTML;
- ``reads``: reads counted once per reader per day; ``outbox``: the queue messages a change owes.
"""
