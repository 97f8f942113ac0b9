"""Authentication by API key (``Authorization: Bearer stk_…``), scopes and rate limits."""

import math
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api_keys import service as api_keys
from app.api_keys.models import ApiKey, Scope
from app.kit.errors import StammkundeError
from app.kit.runtime import get_runtime


class Unauthenticated(StammkundeError):
    status = 401
    code = "unauthenticated"
    title = "Unauthenticated"


class Forbidden(StammkundeError):
    status = 403
    code = "insufficient_scope"
    title = "Insufficient scope"


class RateLimited(StammkundeError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"


AUTH_ERRORS = (Unauthenticated, Forbidden, RateLimited)

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="stk_<key id>_<secret>",
    description="An API key created with `POST /v1/api-keys` or `stammkunde apikey create`.",
)


async def current_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> ApiKey:
    # FastAPI caches a dependency per set of security scopes: the scope check and the
    # idempotency claim reach this twice in one request, which must count once.
    authenticated: ApiKey | None = getattr(request.state, "api_key", None)
    if authenticated is not None:
        return authenticated
    challenge = {"WWW-Authenticate": 'Bearer realm="stammkunde"'}
    if credentials is None:
        raise Unauthenticated(
            "Send an API key as `Authorization: Bearer <key>`.", headers=challenge
        )
    runtime = get_runtime(request)
    api_key = await api_keys.authenticate(
        request.state.session, runtime.secret_key, credentials.credentials
    )
    if api_key is None:
        raise Unauthenticated("The API key is unknown or revoked.", headers=challenge)
    request.state.api_key_id = api_key.key_id
    rates = [runtime.settings.rate_limits.get(scope, 0.0) for scope in api_key.scopes]
    rate = 0.0 if any(r <= 0 for r in rates) else max(rates)
    retry_after = runtime.rate_limiter.acquire(api_key.id, rate)
    if retry_after is not None:
        raise RateLimited(
            f"This API key is limited to {rate:g} requests per second.",
            headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
        )
    request.state.api_key = api_key
    return api_key


CurrentApiKey = Annotated[ApiKey, Depends(current_api_key)]


def require_scope(*allowed: Scope) -> Callable[[ApiKey], Awaitable[ApiKey]]:
    """A dependency that lets keys with one of ``allowed`` (or ``admin``) through.

    The scopes go into the operation's security requirement, where the OpenAPI document
    shows them (and copies them into ``x-required-scopes``).
    """
    scopes = [scope.value for scope in dict.fromkeys((*allowed, Scope.admin))]

    async def check_scope(
        api_key: Annotated[ApiKey, Security(current_api_key, scopes=scopes)],
    ) -> ApiKey:
        if not api_key.has_scope(*allowed):
            raise Forbidden(f"This operation needs an API key with scope {' or '.join(scopes)}.")
        return api_key

    return check_scope


AdminKey = Annotated[ApiKey, Depends(require_scope(Scope.admin))]
