"""Screen cards say how another unit's content reaches the fan through this account (issue 11 item 2)."""

from __future__ import annotations

import re

from chalicelib.dal import accounts as account_repo
from chalicelib.models import Account
from chalicelib.services.screens import catalogue as screen_catalogue
from tests.support import PLAIN_APPID


def card_of(body: str, screen_id: str) -> str:
    match = re.search(
        rf'<article class="card">(?:(?!</article>).)*?{screen_id}(?:(?!</article>).)*</article>', body, re.S
    )
    assert match, screen_id
    return match.group(0)


def test_cards_of_other_units_say_listed_not_pushed_and_follow_the_policy(browser, demo):
    body = browser.get(f"/m/{PLAIN_APPID}/subscribe").body.decode()
    assert 'data-reach="unread"' in card_of(body, "SQ001")  # 社区 is a sibling of the account's 市科协
    assert "不推送，列在「最新内容」" in card_of(body, "SQ001")
    assert "data-reach" not in card_of(body, "NJ001")  # its own unit: pushed as always

    Account.get(PLAIN_APPID).update(actions=[Account.cross_unit.set("none")])
    account_repo.clear()  # the pages cache an account for a minute
    screen_catalogue.clear()
    body = browser.get(f"/m/{PLAIN_APPID}/subscribe").body.decode()
    assert 'data-reach="none"' in card_of(body, "SQ001")
    Account.get(PLAIN_APPID).update(actions=[Account.cross_unit.set("push")])
    account_repo.clear()  # the pages cache an account for a minute
    body = browser.get(f"/m/{PLAIN_APPID}/subscribe").body.decode()
    assert "data-reach" not in card_of(body, "SQ001")
