"""A write's fields as JSON or as a form: ``data: JsonOrForm[StageIn]``.

An operation that may take a file (a report PDF) must read ``multipart/form-data``, but a
partner whose other writes are JSON should not have to build a form to send a stage without
one. ``JsonOrForm[Model]`` reads ``Model``'s fields from the JSON object when the request says
``Content-Type: application/json``, and from the form fields otherwise (multipart, or
``application/x-www-form-urlencoded``): one model, so the same checks and the same answer
either way. Files come only with a form (``File[UploadedFile]`` beside it).

The document shows both request types (``_document``): ``application/json`` with the model's
schema, and ``multipart/form-data`` with its fields and the operation's files.
"""

import re
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from django.http import HttpRequest
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.params import ParamShortcut
from ninja.params.models import Form, FormModel, ParamModel
from ninja.schema import NinjaGenerateJsonSchema
from ninja.utils import normalize_path
from pydantic import BaseModel

from .site import DOCUMENT_EXTENSIONS

if TYPE_CHECKING:
    from ninja import NinjaAPI

JSON, MULTIPART = "application/json", "multipart/form-data"


class JsonOrFormModel(FormModel):
    @classmethod
    def get_request_data(
        cls, request: HttpRequest, api: "NinjaAPI", path_params: dict[str, Any]
    ) -> dict[str, Any] | None:
        if request.content_type == JSON:
            # Read as every JSON body of the API is (hireops.api.reading): the same refusals.
            return api.parser.parse_body(request)
        collections = getattr(cls, "__ninja_collection_fields__", [])
        return api.parser.parse_querydict(request.POST, collections, request)


class _JsonOrForm(Form):  # type: ignore[misc]  # ninja's Param is a FieldInfo, typed as Any
    _model = JsonOrFormModel

    @classmethod
    def _param_source(cls) -> str:
        return "form"  # flattened into fields, as a form's are (a JSON body keeps the same names)


def _json_or_form(default: Any = ..., **kwargs: Any) -> Any:
    return _JsonOrForm(default, **kwargs)


if TYPE_CHECKING:
    T = TypeVar("T")
    JsonOrForm = Annotated[T, _json_or_form()]
else:
    JsonOrForm = ParamShortcut(_json_or_form)


def _models_read(model: type[ParamModel]) -> list[type[BaseModel]]:
    """The schemas an operation's JSON-or-form parameter reads (``StageIn``)."""
    return [
        field.annotation
        for field in model.model_fields.values()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    ]


def _document(schema: OpenAPISchema) -> None:
    """Each operation reading ``JsonOrForm`` takes ``application/json`` (its model) as well as
    ``multipart/form-data`` (ninja documents the form only)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    # The routers as ninja's own document walks them (OpenAPISchema.get_paths).
    for router in schema.api._get_bound_routers():
        for path, path_view in router.path_operations.items():
            full = normalize_path("/" + schema.path_prefix + "/".join(p for p in (router.prefix, path) if p))
            full = re.sub(r"{[^}:]+:", "{", full)
            for op in path_view.operations:
                read = [m for m in op.models if issubclass(m, JsonOrFormModel)]
                if not read:
                    continue
                (model,) = _models_read(read[0])
                generated = model.model_json_schema(
                    ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema
                )
                components.update(generated.pop("$defs", {}))
                components.setdefault(model.__name__, generated)
                for method in op.methods:
                    body = schema["paths"][full][method.lower()]["requestBody"]
                    (form,) = body["content"].values()
                    form["schema"]["title"] = f"{model.__name__}Form"  # not ninja's generic name
                    body["content"] = {
                        JSON: {"schema": {"$ref": REF_TEMPLATE.format(model=model.__name__)}},
                        MULTIPART: form,
                    }


DOCUMENT_EXTENSIONS.append(_document)
