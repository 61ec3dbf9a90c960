"""Short-lived access tokens (JWT, HS256) and opaque credentials stored only as HMACs."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from emprops.auth.errors import UnauthorizedError

ISSUER = "emprops"
AUDIENCE = "emprops-api"
API_KEY_PREFIX = "emp_"


def credential_hmac(secret: bytes, credential: str) -> str:
    return hmac.new(secret, credential.encode(), hashlib.sha256).hexdigest()


def issue_access_token(secret: bytes, user_id: uuid.UUID, ttl: timedelta) -> tuple[str, datetime]:
    now = datetime.now(UTC)
    expires = now + ttl
    claims = {"sub": str(user_id), "iat": now, "exp": expires, "iss": ISSUER, "aud": AUDIENCE,
              "jti": uuid.uuid4().hex}  # fmt: skip
    return jwt.encode(claims, secret, algorithm="HS256"), expires


def decode_access_token(secret: bytes, token: str) -> uuid.UUID:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
        return uuid.UUID(claims["sub"])
    except jwt.ExpiredSignatureError:
        raise UnauthorizedError("access token expired") from None
    except (jwt.InvalidTokenError, ValueError):
        raise UnauthorizedError("invalid access token") from None


@dataclass(frozen=True)
class NewApiKey:
    token: str  # shown once
    prefix: str


def new_api_key() -> NewApiKey:
    """`emp_<id>_<secret>`: the id part is the public, indexed prefix; the whole is HMAC-ed."""
    key_id = secrets.token_hex(6)
    prefix = f"{API_KEY_PREFIX}{key_id}"
    return NewApiKey(token=f"{prefix}_{secrets.token_urlsafe(32)}", prefix=prefix)


def api_key_prefix(token: str) -> str | None:
    """The public part of `emp_<hex id>_<secret>` (the secret may itself contain `_`)."""
    if not token.startswith(API_KEY_PREFIX):
        return None
    key_id, sep, secret = token.removeprefix(API_KEY_PREFIX).partition("_")
    if (
        not sep
        or not secret
        or len(key_id) != 12
        or not all(c in "0123456789abcdef" for c in key_id)
    ):
        return None
    return API_KEY_PREFIX + key_id


def new_refresh_token() -> str:
    return "empr_" + secrets.token_urlsafe(48)
