"""``GET /{file_name}``: each official account's ``MP_verify_*.txt``, at the root of the phone pages' domain.

WeChat allows web OAuth (网页授权) only on a domain that serves the check file
it hands out for the account (设置与开发 → 公众号设置 → 功能设置 → 网页授权域名).
Units set name and content per account in the admin API
(``mp_verify_file`` / ``mp_verify_content``); the API's custom domain maps its
root here (``infra.domains``).  Anything else at the root is a plain 404.
"""

from __future__ import annotations

import re

from chalice import Blueprint, Response

from chalicelib.dal.accounts import verification_content

bp = Blueprint(__name__)

FILE_RE = re.compile(r"^MP_verify_[0-9A-Za-z]{1,32}\.txt$")


@bp.route("/{file_name}", methods=["GET"])
def domain_check_file(file_name: str) -> Response:
    content = verification_content(file_name) if FILE_RE.fullmatch(file_name or "") else None
    if content is None:
        return Response(body="not found", status_code=404, headers={"Content-Type": "text/plain; charset=utf-8"})
    return Response(
        body=content,
        status_code=200,
        headers={"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "max-age=300"},
    )
