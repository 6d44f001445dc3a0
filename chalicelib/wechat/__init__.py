"""The WeChat protocol, in one place: callback security, messages, the HTTP API client."""
