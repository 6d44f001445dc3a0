"""``python -m devstack.wechat_standin``: the stand-in in the foreground."""

from devstack.wechat_standin.cli import main

main()
