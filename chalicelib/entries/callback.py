"""The WeChat callback function: ``/wechat/{appid}`` only.

WeChat waits 5 s for an answer, cold start included; this module imports the
callback's own code and nothing the admin API or the phone pages need, and
defers what it imports only for some messages (wechatpy's HTTP client;
jinja2, loaded by the first message that gets a rendered reply; the AES
cipher, by the first encrypted message) and the models package's ``__init__``
(which imports the model of every table; the callback imports the few it
uses from their defining modules).
"""

from chalice import Chalice

from chalicelib.entries.lazy import defer_package_init

defer_package_init("wechatpy")  # before anything imports it; see chalicelib.entries.lazy
defer_package_init("aws_lambda_powertools.utilities.parameters")  # only its SSM provider is used
defer_package_init("chalicelib.models")  # its __init__ imports every table's model; the callback needs a few

from chalicelib.handlers.wechat_callback import bp as wechat_callback  # noqa: E402
from chalicelib.observability import instrument_app  # noqa: E402

app = Chalice(app_name="kepuscreen")
instrument_app(app)
app.register_blueprint(wechat_callback)
