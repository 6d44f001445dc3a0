"""The push feature, one package: planning, sending, channel rules, ledger, pacing, outcomes, digest.

``sender`` puts them together for one batch, ``invocation`` for one run of the sender function;
``planner`` pages subscribers into send batches, ``policy`` holds the channel rules, ``bodies`` what
each channel says, ``outcomes`` the forecast and job status, ``digest`` the subscription accounts' daily
digest, ``messages`` the queue messages.  One package, so the feature is found in one place.  See docs/push.md.
"""
