"""Console sign-in: passwords with back-off and lock, cookie sessions with a CSRF token.

The browser holds an opaque random token in an HttpOnly cookie; the table
keeps only its SHA-256.  Writes made with the cookie must also carry the CSRF
token, derived from the session token by HMAC, so a page can fetch it again
after a reload (``GET /auth/session``); the cookie and the token are
``session_cookies``'.  A session ends after ``IDLE`` without requests, after
``MAX_AGE`` in any case, on sign-out, on revocation and when the user's
password is reset.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from chalicelib.dal.items import find
from chalicelib.models import ConsoleSession, Credential, User
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.services.access import audit, passwords
from chalicelib.services.access.grants import MANAGE, Principal, authenticate, principal_with_units
from chalicelib.services.access.session_cookies import CSRF_HEADER, MAX_AGE, csrf_for, hash_token, token_from_cookie
from chalicelib.services.shared.errors import ApiError, BadRequest, Conflict, NotFound, Unauthorized
from chalicelib.services.shared.writes import OBJECT_TAG, commit, now

IDLE = timedelta(minutes=30)
TOUCH_EVERY = timedelta(seconds=60)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BACKOFF_FROM, LOCK_AFTER, MAX_BACKOFF_SECONDS = 3, 10, 60
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")


class TooManyAttempts(ApiError):
    status, code = 429, "too_many_attempts"


class Locked(ApiError):
    status, code = 423, "locked"


# ---- rules (no I/O) -------------------------------------------------------------------------------


def backoff(failures: int, at: datetime) -> datetime | None:
    """When the next attempt is allowed after ``failures`` consecutive failures (None: at once).

    From the third failure each further one doubles the wait (1 s, 2 s, 4 s … 60 s);
    the tenth locks the credential until an admin resets the password.
    """
    if failures >= LOCK_AFTER:
        return at + timedelta(days=3650)
    if failures >= BACKOFF_FROM:
        return at + timedelta(seconds=min(2 ** (failures - BACKOFF_FROM), MAX_BACKOFF_SECONDS))
    return None


def is_live(session: ConsoleSession, at: datetime) -> bool:
    return session.expires_at > at and session.last_seen_at + IDLE > at


@cache
def _dummy_hash() -> str:
    return passwords.hash_password(secrets.token_urlsafe(16))


# ---- views ----------------------------------------------------------------------------------------


def view(session: ConsoleSession, current: str | None = None) -> dict[str, Any]:
    return {
        "session_id": session.public_id,
        "user_id": session.user_id,
        "method": session.method,
        "user_agent": session.user_agent,
        "source_ip": session.source_ip,
        "created_at": session.created_at,
        "last_seen_at": session.last_seen_at,
        "idle_expires_at": session.last_seen_at + IDLE,
        "expires_at": session.expires_at,
        "current": session.public_id == current,
    }


@dataclass
class SignedIn:
    session: ConsoleSession
    token: str

    @property
    def csrf_token(self) -> str:
        return csrf_for(self.token)


# ---- sign-in --------------------------------------------------------------------------------------


def start_session(user: User, method: str, user_agent: str | None, source_ip: str | None) -> SignedIn:
    token = secrets.token_urlsafe(32)
    at = now()
    session = ConsoleSession(
        hash_token(token),
        public_id=secrets.token_hex(8),
        user_id=user.user_id,
        method=method,
        user_agent=(user_agent or "")[:200] or None,
        source_ip=(source_ip or "")[:64] or None,
        created_at=at,
        last_seen_at=at,
        expires_at=at + MAX_AGE,
    )
    session.save(condition=ConsoleSession.token_hash.does_not_exist())
    return SignedIn(session, token)


def login(username: str, password: str, user_agent: str | None = None, source_ip: str | None = None) -> SignedIn:
    """A new session for the right password; wrong ones count towards back-off and lock."""
    wrong = Unauthorized("wrong username or password", code="bad_credentials")
    cred = find(Credential, username.strip().lower(), consistent=True)
    if cred is None:
        passwords.verify(password, _dummy_hash())  # the same cost as a known name
        raise wrong
    at = now()
    if cred.blocked_until is not None and cred.blocked_until > at:
        if cred.failures >= LOCK_AFTER:
            raise Locked("too many failed attempts: the account is locked until an admin resets the password")
        wait = int((cred.blocked_until - at).total_seconds()) + 1
        raise too_many(wait)
    if not passwords.verify(password, cred.password_hash):
        cred.update(actions=[Credential.failures.add(1)])
        until = backoff(int(cred.failures), at)
        if until is not None:
            cred.update(actions=[Credential.blocked_until.set(until)])
        raise wrong
    user = find(User, cred.user_id)
    if user is None:
        raise wrong
    if user.disabled:
        raise wrong
    if cred.failures or cred.blocked_until:
        cred.update(actions=[Credential.failures.set(0), Credential.blocked_until.remove()])
    return start_session(user, "password", user_agent, source_ip)


def too_many(wait: int) -> TooManyAttempts:
    error = TooManyAttempts(f"too many failed attempts: try again in {wait} s")
    error.retry_after = wait
    return error


def authenticate_session(token: str, csrf: str | None, write: bool) -> Principal:
    expired = Unauthorized("the session has expired: sign in again", code="session_expired")
    session = find(ConsoleSession, hash_token(token))
    if session is None:
        raise expired
    at = now()
    if not is_live(session, at):
        raise expired
    if write and not (csrf and hmac.compare_digest(csrf.strip(), csrf_for(token))):
        raise BadRequest(
            "writes with a session need the X-CSRF-Token header from sign-in", code="csrf", field="X-CSRF-Token"
        )
    user = find(User, session.user_id)
    if user is None:
        raise expired
    if user.disabled:
        raise Unauthorized("user disabled")
    if at - session.last_seen_at > TOUCH_EVERY:
        session.update(actions=[ConsoleSession.last_seen_at.set(at)])
    principal = principal_with_units(user.user_id)  # the granted units kept for the call, as for a key
    principal.session_id = session.public_id
    return principal


def authenticate_request(headers: dict[str, str], method: str) -> Principal:
    """The caller behind a bearer key, or else behind the session cookie (CSRF-checked on writes)."""
    if headers.get("authorization"):
        return authenticate(headers["authorization"])
    token = token_from_cookie(headers.get("cookie"))
    if token is None:
        raise Unauthorized("sign in, or send a bearer API key")
    return authenticate_session(token, headers.get(CSRF_HEADER), method.upper() not in SAFE_METHODS)


def current(headers: dict[str, str]) -> tuple[ConsoleSession, str] | None:
    token = token_from_cookie(headers.get("cookie"))
    if token is None:
        return None
    session = find(ConsoleSession, hash_token(token))
    return (session, token) if session is not None else None


def logout(headers: dict[str, str]) -> None:
    found = current(headers)
    if found:
        found[0].delete()


def list_sessions(principal: Principal) -> list[ConsoleSession]:
    at = now()
    return [s for s in ConsoleSession.by_user.query(principal.user_id) if is_live(s, at)]


def revoke(principal: Principal, public_id: str) -> None:
    found = list(ConsoleSession.by_user.query(principal.user_id, ConsoleSession.public_id == public_id))
    if not found:
        raise NotFound("session")
    found[0].delete()


def revoke_all(user_id: str, keep: str | None = None) -> int:
    count = 0
    for session in ConsoleSession.by_user.query(user_id):
        if session.public_id != keep:
            session.delete()
            count += 1
    return count


# ---- passwords ------------------------------------------------------------------------------------


def set_password(
    principal: Principal, user_id: str, password: str, username: str | None = None, current_password: str | None = None
) -> User:
    """Set or reset a user's password (and sign-in name): oneself, or an admin of the user's unit.

    Changing one's own password needs the current one; an admin's reset also
    lifts a lock.  Every other session of the user ends.
    """
    from chalicelib.services.access import users as users_service

    own = user_id == principal.user_id
    user = users_service.get(principal, user_id) if own else users_service._visible(principal, user_id, MANAGE)
    name = (username or user.username or "").strip().lower()
    if not name:
        raise BadRequest("a username is needed the first time", field="username", code="required")
    if not USERNAME.match(name):
        raise BadRequest("3–32 lowercase letters, digits, '.', '_' or '-'", field="username")
    if own and user.username:
        old = find(Credential, user.username, consistent=True)
        if old is not None and not (current_password and passwords.verify(current_password, old.password_hash)):
            raise BadRequest("the current password is wrong", field="current_password", code="bad_credentials")
    reason = passwords.weakness(password, name)
    if reason:
        raise BadRequest(f"password: {reason}", field="password", code="weak_password")
    uow = UnitOfWork()
    uow.put(
        Credential(
            name, user_id=user_id, password_hash=passwords.hash_password(password), failures=0, updated_at=now()
        ),
        condition=Credential.username.does_not_exist() | (Credential.user_id == user_id),
        tag="credential",
    )
    if user.username != name:
        uow.update(user, [User.username.set(name), User.updated_at.set(now())], tag=OBJECT_TAG)
    audit.record(
        uow,
        principal.user_id,
        "user.password",
        user.unit_id,
        "user",
        user_id,
        None,
        {"username": name, "password": "set"},
    )
    try:
        commit(uow)
    except Conflict:  # only the credential is conditioned: the name belongs to someone else
        raise Conflict("this username is taken", field="username", code="username_taken") from None
    if user.username and user.username != name:
        Credential(user.username).delete(condition=Credential.user_id == user_id)
    revoke_all(user_id, keep=principal.session_id if own else None)
    user.refresh(consistent_read=True)
    return user
