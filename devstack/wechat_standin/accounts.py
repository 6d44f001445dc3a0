"""Controls that set up the world WeChat would know: accounts, followers, what users did.

Why controls: in production these facts come from real people (a follow, a
message, accepting a subscription notice); locally a test or the simulator
states them, and the API areas then apply WeChat's rules to them.
"""

from __future__ import annotations

from devstack.wechat_standin.controls import control
from devstack.wechat_standin.core import Core
from devstack.wechat_standin.state import INTERACTION_KINDS, Account, State, beijing_day


@control
def register_account(core: Core, appid: str, secret: str, account_type: str = "service") -> None:
    """Create (or replace the secret/type of) an official account."""
    if account_type not in ("service", "subscription"):
        raise ValueError("account_type must be 'service' or 'subscription'")
    account = core.state.accounts.get(appid)
    if account is None:
        core.state.accounts[appid] = Account(appid, secret, account_type)
    else:
        account.secret, account.account_type = secret, account_type


@control
def follow(
    core: Core,
    appid: str,
    openid: str,
    scene: str = "ADD_SCENE_QR_CODE",
    qr_scene: int = 0,
    qr_scene_str: str = "",
    at: float | None = None,
) -> None:
    """Make ``openid`` a follower; like real WeChat this also opens a 1-minute window."""
    now = core.now() if at is None else at
    account = core.account(appid)
    fan = account.fan(openid)
    if not fan.subscribed:
        account.user_days.setdefault(beijing_day(now), [0, 0])[0] += 1
    fan.subscribed = True
    fan.subscribe_time = int(now)
    fan.scene, fan.qr_scene, fan.qr_scene_str = scene, qr_scene, qr_scene_str
    fan.open_window("follow", now)


@control
def unfollow(core: Core, appid: str, openid: str) -> None:
    """The user cancels: sends now get 43004 and open windows close."""
    account = core.account(appid)
    fan = account.fan(openid)
    if fan.subscribed:
        account.user_days.setdefault(beijing_day(core.now()), [0, 0])[1] += 1
    fan.subscribed = False
    fan.windows.clear()


@control
def set_user_summary(
    core: Core, appid: str, day: str, new_user: int, cancel_user: int, cumulate_user: int | None = None
) -> None:
    """Seed what ``datacube/getusersummary`` / ``getusercumulate`` report for one Beijing day."""
    account = core.account(appid)
    account.user_days[day] = [int(new_user), int(cancel_user)]
    if cumulate_user is not None:
        account.cumulate[day] = int(cumulate_user)


@control
def record_interaction(core: Core, appid: str, openid: str, kind: str, at: float | None = None) -> None:
    """Record what the user did, opening the matching customer-service window."""
    if kind not in INTERACTION_KINDS:
        raise ValueError(f"kind must be one of {sorted(INTERACTION_KINDS)}")
    fan = core.account(appid).fan(openid)
    fan.open_window(kind, core.now() if at is None else at)


@control
def accept_subscribe(core: Core, appid: str, openid: str, template_id: str, times: int | None = 1) -> None:
    """The user accepts a subscription notice: ``times`` sends (None = long-term)."""
    credits = core.account(appid).fan(openid).subscribe_credits
    if times is None or credits.get(template_id, 0) is None:
        credits[template_id] = None
    else:
        credits[template_id] = (credits.get(template_id) or 0) + times


@control
def tag_user(core: Core, appid: str, openid: str, tagid: int) -> None:
    """Put a user under a tag, as mass sends filter by tag."""
    core.account(appid).fan(openid).tags.add(int(tagid))


@control
def reset(core: Core) -> None:
    """Forget everything: accounts, tokens, messages, faults, quotas, clock."""
    core.state = State(core.seed)
