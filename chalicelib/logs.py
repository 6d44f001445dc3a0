"""Structured JSON logging through Powertools, one logger for the whole service.

Log lines carry identifiers (appid, screen, content ids, counts), never
secrets, message content or personal data beyond the openid.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="kepuscreen")
