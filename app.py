"""kepuscreen's Chalice application: create the app, register the blueprints.

Nothing else lives here; routes and event handlers are in
``chalicelib/handlers``, domain rules in ``chalicelib/services``.
"""

from chalice import Chalice

from chalicelib.handlers.admin import accounts as admin_accounts
from chalicelib.handlers.admin import analytics as admin_analytics
from chalicelib.handlers.admin import audit as admin_audit
from chalicelib.handlers.admin import auth as admin_auth
from chalicelib.handlers.admin import content as admin_content
from chalicelib.handlers.admin import openapi as admin_openapi
from chalicelib.handlers.admin import screens as admin_screens
from chalicelib.handlers.admin import units as admin_units
from chalicelib.handlers.admin import users as admin_users
from chalicelib.handlers.analytics_stream import bp as analytics_stream
from chalicelib.handlers.domain_verify import bp as domain_verify
from chalicelib.handlers.operations import bp as operations
from chalicelib.handlers.phone_content import bp as phone_content
from chalicelib.handlers.phone_mydata import bp as phone_mydata
from chalicelib.handlers.phone_pages import bp as phone_pages
from chalicelib.handlers.push_queue import bp as push_queue
from chalicelib.handlers.screens import bp as screens
from chalicelib.handlers.wechat_callback import bp as wechat_callback
from chalicelib.observability import instrument_app

app = Chalice(app_name="kepuscreen")
instrument_app(app)  # before the blueprints: logs with the Lambda context and the request's correlation id
app.register_blueprint(wechat_callback)
app.register_blueprint(phone_pages)
app.register_blueprint(phone_content)
app.register_blueprint(phone_mydata)
app.register_blueprint(domain_verify)
for _admin in (
    admin_units,
    admin_accounts,
    admin_screens,
    admin_content,
    admin_users,
    admin_audit,
    admin_auth,
    admin_analytics,
    admin_openapi,
):
    app.register_blueprint(_admin.bp)
app.register_blueprint(screens)
app.register_blueprint(push_queue)
app.register_blueprint(operations)
app.register_blueprint(analytics_stream)
