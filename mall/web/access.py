"""Who may call an API operation: one decorator declares it, enforces it and documents it.

Every operation of ``/api/v1`` carries ``@access(scope, *roles)`` directly below its
``@blueprint.route``: the caller must be authenticated, hold one of ``roles`` when any
are given (403 role_required), and, calling with a token, the token must hold ``scope``
(403 scope_required; people in a browser session are governed by their roles alone).
``@access(None)`` marks a public operation. The check runs before the request body is
read, so a caller without the right learns nothing from validation errors. The OpenAPI
document shows the scope as a bearer security requirement and as ``x-required-scope``,
the roles as ``x-required-roles``; a test walks every operation with a token lacking
its scope.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from functools import wraps
from typing import Any

from mall.core.auth import Role, Scope
from mall.web import current_actor

BEARER_SCHEME = "bearerAuth"


@dataclass(frozen=True)
class Access:
    """What an operation asks of its caller (kept on the view for tests and tooling)."""

    scope: Scope | None
    roles: frozenset[Role]

    @property
    def public(self) -> bool:
        return self.scope is None


def access(scope: Scope | None, *roles: Role) -> Callable:
    """Declare and enforce the scope (None: public) and roles an API operation needs."""
    rule = Access(scope=scope, roles=frozenset(roles))

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            if rule.scope is not None:  # not public
                actor = current_actor()
                if rule.roles:
                    actor.require_role(*rule.roles)
                actor.require_scope(rule.scope)
            return view(*args, **kwargs)

        # Attributes of the view function, where tests and flask-smorest read them.
        wrapper.__dict__["_access"] = rule
        apidoc = deepcopy(getattr(view, "_apidoc", {}))
        manual = apidoc.setdefault("manual_doc", {})
        if rule.scope is None:  # public
            manual["security"] = []
        else:
            manual["security"] = [{BEARER_SCHEME: []}]
            manual["x-required-scope"] = rule.scope.value
            description = f"Needs the token scope `{rule.scope.value}`"
            if rule.roles:
                names = ", ".join(sorted(r.value for r in rule.roles))
                manual["x-required-roles"] = sorted(r.value for r in rule.roles)
                description += f" and one of the roles {names}"
            manual.setdefault("responses", {})["403"] = {
                "description": description + " (scope_required, role_required)."}
        wrapper.__dict__["_apidoc"] = apidoc
        return wrapper

    return decorator


def access_of(view: Callable) -> Access | None:
    """The access rule an API view declared, or None if it declared none."""
    return getattr(view, "_access", None)


SECURITY_SCHEMES = {
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token issued on the API tokens page; each operation names the "
                       "scope it needs in x-required-scope. A browser session may call the "
                       "API too (with the X-CSRFToken header on writes).",
    }
}
