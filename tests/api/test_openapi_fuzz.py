"""A schema-driven fuzz run over the API's own OpenAPI document (schemathesis, in-process WSGI).

Every operation gets generated requests, valid and invalid by the document, from a caller
its access rule lets through (a unit's, a supplier's, an operator's or a bank's token with
every scope of its kind). Each answer must not be a server error, and its status, content
type and body must be the ones the document declares. Derandomized and bounded
(``FUZZ_EXAMPLES`` per operation and mode, 15 by default) so it is the same run every
time and takes well under a minute per database.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mall.accounts import services
from mall.core.auth import ROLES_BY_KIND, SCOPES_BY_KIND, OrganisationKind, Role, Scope
from tests.factories.accounts import make_member
from tests.factories.purchasing import make_unit, supplier_with_offers

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
CALLER_KINDS = (OrganisationKind.PURCHASING_UNIT, OrganisationKind.SUPPLIER,
                OrganisationKind.OPERATOR, OrganisationKind.FINANCE_PARTNER)


def _callers(session) -> dict[OrganisationKind, dict[str, str]]:
    """Fresh callers (an operation may revoke a token or change a user's roles)."""
    headers = {}
    for kind in CALLER_KINDS:
        user = make_member(session, kind, roles=sorted(ROLES_BY_KIND[kind]))
        _, secret = services.issue_token(session, services.actor_for(user), name="fuzz",
                                         scopes=sorted(s.value for s in SCOPES_BY_KIND[kind]))
        headers[kind] = {"Authorization": f"Bearer {secret}"}
    session.flush()
    return headers


def _caller(callers, definition: dict) -> dict[str, str]:
    if definition.get("security") == []:
        return {}
    scope = Scope(definition["x-required-scope"])
    roles = {Role(r) for r in definition.get("x-required-roles", [])}
    kind = next(k for k in CALLER_KINDS if scope in SCOPES_BY_KIND[k]
                and (not roles or roles & ROLES_BY_KIND[k]))
    return callers[kind]


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_its_openapi_document_says(app, session, mode):
    # Something to find: a unit with a budget line, suppliers with offers in carts' reach.
    make_unit(session)
    supplier_with_offers(session, prices=(2990, 4590))
    failures: list[str] = []
    operations = _operations(app)
    assert len(operations) >= 40
    for operation in operations:
        try:
            _fuzz(operation, mode, _caller(_callers(session), operation.definition.raw))
        except Unsatisfiable:
            continue  # nothing to get wrong (no parameters to break in negative mode)
        except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - collect them all
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)


def _fuzz(operation, mode: GenerationMode, headers: dict[str, str]) -> None:
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    fuzz()
