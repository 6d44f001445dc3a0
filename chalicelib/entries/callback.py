"""The WeChat callback function: ``/wechat/{appid}`` only.

WeChat waits 5 s for an answer, cold start included; this module imports the
callback's own code and nothing the admin API or the phone pages need.
"""

from chalice import Chalice

from chalicelib.handlers.wechat_callback import bp as wechat_callback

app = Chalice(app_name="kepuscreen")
app.register_blueprint(wechat_callback)
