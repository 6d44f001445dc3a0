"""kepuscreen's Chalice application: create the app, register the blueprints.

Nothing else lives here; routes and event handlers are in
``chalicelib/handlers``, domain rules in ``chalicelib/services``.
"""

from chalice import Chalice

from chalicelib.handlers.push_queue import bp as push_queue
from chalicelib.handlers.wechat_callback import bp as wechat_callback

app = Chalice(app_name="kepuscreen")
app.register_blueprint(wechat_callback)
app.register_blueprint(push_queue)
