"""The NinjaAPI behind ``/api/v1/``: authentication, scopes, problems, and the operations the
platform and the apps register on it from their ``api.py`` (``hireops.api.served`` imports every
one: this module imports none, since each of them imports this one).

An app adds an operation with ``operation``:

    router = Router(tags=["Things"])

    @operation(router.get, "/things", "listThings", scope="things:read", summary="List things",
               response=Page[ThingOut])
    def list_things(request, filters: Query[ThingFilters]): ...

    @operation(router.post, "/things", "createThing", scope="things:write", summary="Add a thing",
               response={201: ThingOut}, write=True, created="/things/{id}")
    def create_thing(request, payload: ThingIn): ...

    register(router)

The operation id (lowerCamelCase, verb then noun) is what a generated client names its method:
tests/api/test_contract.py holds every operation to that form. ``scope`` is checked before the
request is read and recorded in the document (``x-scope``), so the tests enumerate every
operation against a key without it. An operation answering 201 names where its object is read
(``created``, a path of the API whose parameters are fields of the answer): the middleware
sends it as ``Location``. The document's paths are relative to its one server, ``BASE``.
"""

from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError, ValidationErrorContext
from ninja.openapi.docs import Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.params.models import QueryModel
from ninja.security.http import HttpAuthBase

from . import operations
from .document import complete
from .problems import CONTENT_TYPE, Problem, ProblemOut, problem, too_large
from .reading import StrictParser

if TYPE_CHECKING:
    from .models import ApiKey as KeyRow

_Operation = TypeVar("_Operation", bound=Callable[..., Any])
VERSION = "1"
BASE = "/api/v1"  # where config/urls.py mounts the API: the document's server
SCOPE_FIELD = "x-scope"
# What any operation may answer, whatever it is: 414 and 431 come from the server itself
# (gunicorn.conf.py: a request line or header section past its limits).
ERRORS = {
    400: ProblemOut,
    401: ProblemOut,
    403: ProblemOut,
    404: ProblemOut,
    414: ProblemOut,
    422: ProblemOut,
    429: ProblemOut,
    431: ProblemOut,
}
# A write also reads a body: too large (413), of a type the operation does not take (415).
WRITE_ERRORS = {**ERRORS, 409: ProblemOut, 413: ProblemOut, 415: ProblemOut}
# Functions adding to the document what is no operation (hireops.webhooks: its ``webhooks``).
DOCUMENT_EXTENSIONS: list[Callable[[OpenAPISchema], None]] = []


class ApiKey(HttpAuthBase):
    """The key the middleware found (``request.api_key``), holding the operation's scope: no
    key, 401; a key without the scope, 403 naming it, before the request is even read (so the
    answer is the same whatever the body). Nothing is looked up twice, and the header's value
    is never logged."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __init__(self, scope: str | None = None):
        super().__init__()
        self.scope = scope
        self.query_names: frozenset[str] | None = None  # set once the operation is built

    def __call__(self, request: HttpRequest) -> "KeyRow | None":
        key: KeyRow | None = getattr(request, "api_key", None)
        if key is None:
            return None
        if self.scope is not None and self.scope not in key.scopes:
            raise Problem(403, f"This key lacks the scope {self.scope}.", kind="missing-scope")
        # A misspelt filter (updated_afer=…) would silently widen a sync to every row.
        if self.query_names is not None and (unknown := sorted(set(request.GET) - self.query_names)):
            raise Problem(
                400,
                f"Unknown query parameter: {', '.join(unknown)}.",
                kind="unknown-parameter",
                errors=[(name, "not a parameter of this operation") for name in unknown],
            )
        return key


class HireopsAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        """The one document, whoever asks: its paths relative to its server (``BASE``, a
        relative URL, so it names no host), as a generated client takes them."""
        schema = super().get_openapi_schema(path_prefix="")
        complete(schema, BASE)
        # Error answers are problem details (RFC 9457): say so in the contract.
        for item in schema.get("paths", {}).values():
            for op in item.values():
                for status, answer in op.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        answer["content"] = {CONTENT_TYPE: content.pop("application/json")}
        for extend in DOCUMENT_EXTENSIONS:
            extend(schema)
        return schema

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext[Any]]
    ) -> ValidationError:
        # An operation with one body parameter reads the whole JSON body into it, but ninja
        # names its fields after the Python parameter (body.payload.name): the client sent "name".
        errors = []
        for context in error_contexts:
            single = getattr(context.model, "__read_from_single_attr__", None)
            for error in super().validation_error_from_error_contexts([context]).errors:
                loc = tuple(error["loc"])
                if single and loc[:2] == ("body", single):
                    error["loc"] = loc[:1] + loc[2:]
                errors.append(error)
        return ValidationError(errors)


def _key_problem(request: HttpRequest, exc: object) -> HttpResponse:
    return problem(
        401,
        "A valid API key is required: Authorization: Bearer <key>.",
        kind="unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="hireops"'},
    )


def _validation_problem(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: list[tuple[str, object]] = []
    for error in exc.errors:
        # ("body", field…) once HireopsAPI dropped the operation's parameter name.
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "form")]
        errors.append((".".join(loc) or "request", error.get("msg", "invalid")))
    return problem(
        422 if request.method != "GET" else 400,
        "The request is not valid.",
        kind="invalid-request",
        errors=errors,
    )


def _http_problem(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja answers what its parser raised (hireops.api.reading) as a 400 raised from it.
    if isinstance(exc.__cause__, Problem):
        return exc.__cause__.response()
    if isinstance(exc.__cause__, RequestDataTooBig | TooManyFieldsSent | TooManyFilesSent):
        return too_large(exc.__cause__)
    return problem(exc.status_code, str(exc) or HTTPStatus(exc.status_code).phrase)


def _form_problem(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return problem(400, f"The multipart body is malformed: {exc}.", kind="malformed-body")


api = HireopsAPI(
    title="hireops partner API",
    version=VERSION,
    description=(
        "The partners' API of hireops: its services for vendors' case platforms and HR systems, "
        "and webhooks telling them what happened. Keys, scopes, pagination, `Idempotency-Key`, "
        f"rate limits, errors and webhooks are explained in the [partners' guide]({BASE}/guide). "
        f"This document is served at [{BASE}/openapi.json]({BASE}/openapi.json), browsable at "
        f"[{BASE}/docs]({BASE}/docs)."
    ),
    servers=[{"url": BASE, "description": "this host"}],
    auth=ApiKey(),
    urls_namespace="api-v1",
    docs=Swagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=StrictParser(),
)
# ninja types a handler's exception as "the exception or its class"; it is always an instance.
api.add_exception_handler(AuthenticationError, _key_problem)
api.add_exception_handler(ValidationError, _validation_problem)  # type: ignore[arg-type]
api.add_exception_handler(HttpError, _http_problem)  # type: ignore[arg-type]
api.add_exception_handler(Problem, lambda request, exc: exc.response())  # type: ignore[call-arg]
api.add_exception_handler(Http404, lambda request, exc: problem(404, "No such object.", kind="not-found"))
# Django's limits on what a body may hold (DATA_UPLOAD_MAX_*), met while the operation reads it.
for _too_large in (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
    api.add_exception_handler(_too_large, lambda request, exc: too_large(exc))  # type: ignore[arg-type]
api.add_exception_handler(MultiPartParserError, _form_problem)  # type: ignore[arg-type]


# Operation id -> the path template its 201 names (``created``), until its router is registered.
_CREATES: dict[str, str] = {}


def operation(
    method: Callable[..., Callable[[_Operation], _Operation]],
    path: str,
    operation_id: str,
    *,
    scope: str | None,
    summary: str,
    response: Any,
    write: bool = False,
    created: str | None = None,
    **kwargs: Any,
) -> Callable[[_Operation], _Operation]:
    """An operation on ``path`` answering ``response`` (and the problems every operation may
    answer), open to keys holding ``scope``; ``created``: where the object its 201 creates is
    read (``/things/{id}``)."""
    answers = response if isinstance(response, dict) else {200: response}
    answers = {**(WRITE_ERRORS if write else ERRORS), **answers}
    extra = {**kwargs.pop("openapi_extra", {}), SCOPE_FIELD: scope}
    if created is not None:
        _CREATES[operation_id] = created

    auth = ApiKey(scope)

    def decorate(fn: _Operation) -> _Operation:
        built = method(
            path,
            operation_id=operation_id,
            summary=summary,
            response=answers,
            openapi_extra=extra,
            auth=auth,
            **kwargs,
        )(fn)
        # A router's method (router.get, …): a bound method, which a Callable type does not say.
        op = method.__self__.path_operations[path].operations[-1]  # type: ignore[attr-defined]
        auth.query_names = frozenset(
            name
            for model in op.models
            if issubclass(model, QueryModel)
            for name in getattr(model, "__ninja_flatten_map__", {})
        )
        return built

    return decorate


def register(router: Router, prefix: str = "") -> None:
    """Mount an app's router (from its ``api.py``)."""
    api.add_router(prefix, router)
    for path, view in router.path_operations.items():
        full = "/" + "/".join(part.strip("/") for part in (BASE, prefix, path) if part.strip("/"))
        for op in view.operations:
            created = _CREATES.get(op.operation_id or "")
            for http_method in op.methods:
                operations.declare(http_method, full, None if created is None else BASE + created)
