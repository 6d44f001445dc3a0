"""Every API area of the stand-in, collected: the WeChat routes and the control operations.

Why a collecting module: each area module declares its own ``ROUTES`` and
``@control`` operations next to the code answering them (as wechatpy keeps
one module per API area); importing them all here gives the server its route
table and makes :data:`CONTROLS` complete for the server and the client alike.
"""

from __future__ import annotations

from devstack.wechat_standin import accounts, datacube, faults, log, menu, message, oauth, qrcode, token, user
from devstack.wechat_standin.controls import CONTROLS
from devstack.wechat_standin.wire import Route

API_AREAS = (token, message, qrcode, menu, user, datacube, oauth)
# The modules declaring control operations (their import registered them in CONTROLS).
CONTROL_AREAS = (accounts, faults, log, token, message, qrcode, menu)

ROUTES: dict[str, Route] = {path: route for area in API_AREAS for path, route in area.ROUTES.items()}

__all__ = ["CONTROLS", "CONTROL_AREAS", "ROUTES"]
