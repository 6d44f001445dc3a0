"""kepuscreen: WeChat subscriptions to popular-science big screens.

Everything the Lambda functions need lives under this package so that Chalice
ships it with ``app.py``; local-only tooling lives in ``devstack/``.
"""
