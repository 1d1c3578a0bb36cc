"""What one customer's accounts should show, as Feishu's bodies carry it.

The shapes are what ``CatalogueSync.sent`` keeps, so "what Feishu has" and "what it should
have" compare as plain data:

- packages: ``{"packages": {id: {"name", "description"?}}, "items": {id: {...}}}``
- form fields: ``{"fields": [custom_field_list item, …]}`` in display order
- papers: ``{"papers": [paper_list item, …]}`` in display order
"""

from django.db.models import Q

from .models import AdditionalItem, Catalogue, ExamPaper, FormField, Package


def offered(model, customer_id: int | None):
    """Active entries offered to the customer: to every customer, or to it by name."""
    to_everyone = Q(only_for__isnull=True)
    wanted = to_everyone | Q(only_for=customer_id) if customer_id else to_everyone
    pks = model.objects.filter(wanted, is_active=True).values("pk")
    return model.objects.filter(pk__in=pks)


def _named(entry) -> dict:
    item = {"name": entry.name}
    if entry.description:
        item["description"] = entry.description
    return item


def _i18n(zh: str, en: str) -> dict:
    return {k: v for k, v in (("zh_cn", zh.strip()), ("en_us", en.strip())) if v}


def form_field_json(field: FormField) -> dict:
    item = {
        "type": field.type,
        "key": field.key,
        "name": _i18n(field.name_zh, field.name_en),
        "is_required": field.is_required,
    }
    hint = _i18n(field.description_zh, field.description_en)
    if hint:
        item["description"] = hint
    if field.options:
        item["options"] = [
            {"key": o["key"], "name": _i18n(o.get("name_zh", ""), o.get("name_en", ""))}
            for o in field.options
        ]
    return item


def ms(value) -> str | None:
    return str(int(value.timestamp() * 1000)) if value else None


def paper_json(paper: ExamPaper) -> dict:
    item: dict[str, object] = {"id": paper.code, "name": paper.name}
    for key, value in (
        ("duration", paper.duration_minutes),
        ("question_count", paper.question_count),
        ("start_time", ms(paper.starts_at)),
        ("end_time", ms(paper.ends_at)),
    ):
        if value is not None:
            item[key] = value
    return item


def desired(catalogue: str, customer_id: int | None) -> dict:
    if catalogue == Catalogue.PACKAGES:
        return {
            "packages": {p.code: _named(p) for p in offered(Package, customer_id)},
            "items": {i.code: _named(i) for i in offered(AdditionalItem, customer_id)},
        }
    if catalogue == Catalogue.FORM_FIELDS:
        return {"fields": [form_field_json(f) for f in offered(FormField, customer_id)]}
    return {"papers": [paper_json(p) for p in offered(ExamPaper, customer_id)]}


def is_empty(state: dict) -> bool:
    return not any(state.values())
