"""WeChat access tokens shared by every function, one item per official account.

WeChat lets an account hold few valid tokens at a time and counts every fetch
against a daily quota, so all Lambda processes share one cached token per
appid.  The item carries the token with its real expiry, a short refresh
*lease* (``lease_owner``/``lease_until``, taken with a conditional write so
exactly one worker calls WeChat) and a ``generation`` that grows with every
refresh.  See ``chalicelib.services.gateway.tokens`` for the protocol.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import region, table_name


class AccessToken(Model):
    class Meta:
        table_name = table_name("access_tokens")
        region = region()

    appid = UnicodeAttribute(hash_key=True)
    token = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(default=0)  # epoch seconds, from WeChat's expires_in
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(default=0)  # epoch seconds; a lease past this is free to take
    generation = NumberAttribute(default=0)
