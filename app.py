"""kepuscreen's Chalice application: create the app, register the blueprints.

Nothing else lives here; routes and event handlers are in
``chalicelib/handlers``, domain rules in ``chalicelib/services``.
"""

from chalice import Chalice

from chalicelib.handlers.phone_pages import bp as phone_pages
from chalicelib.handlers.wechat_callback import bp as wechat_callback

app = Chalice(app_name="kepuscreen")
app.register_blueprint(wechat_callback)
app.register_blueprint(phone_pages)
