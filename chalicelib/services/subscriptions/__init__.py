"""Fans and their subscriptions to screens, and the phone pages they use.

- ``subscribing``: subscribe and unsubscribe with exact fan counts (the gateway's and the pages' one rule);
- ``pages``: subscribing from the phone pages; ``phone_pages``: the data those pages show;
- ``phone_identity`` / ``phone_visitor``: who is looking at a page (OAuth, push links, cookies) and the rules;
- ``personal_data`` / ``resident_requests``: a resident's data (PIPL), his erasure, and requests made offline.
"""
