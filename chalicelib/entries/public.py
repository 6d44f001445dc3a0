"""The phone pages and the screen API: the other public routes, in a function without admin rights.

The phone pages look fans up in WeChat (``client_for(appid).user.get``), so the
shared DynamoDB token provider is installed here as ``push_queue`` does for
the push functions.
"""

from chalice import Chalice

from chalicelib.handlers.domain_verify import bp as domain_verify
from chalicelib.handlers.phone_content import bp as phone_content
from chalicelib.handlers.phone_mydata import bp as phone_mydata
from chalicelib.handlers.phone_pages import bp as phone_pages
from chalicelib.handlers.screens import bp as screens
from chalicelib.observability import instrument_app
from chalicelib.services.gateway import tokens

tokens.install_shared_provider()

app = Chalice(app_name="kepuscreen")
instrument_app(app)
app.register_blueprint(phone_pages)
app.register_blueprint(phone_content)
app.register_blueprint(phone_mydata)
app.register_blueprint(domain_verify)
app.register_blueprint(screens)
