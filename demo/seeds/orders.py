"""The vendor orders' part of ./dev run's demo (manage.py bootstrap_demo): a catalogue.

Two packages, an additional item, an order-form field and an exam paper, offered to every
customer; the demo's bound accounts (demo.seeds.bindings, also in the sandbox's demo directory) get
them pushed, so the README's orders can be placed at once. ./dev run's sandbox keeps what it
was sent across restarts (its state file); when it starts from its seed (the first start,
SANDBOX_RESET=1), the accounts' record of what Feishu has is cleared and the catalogue
pushed again. Idempotent.
"""

from django.db import transaction

from orders.catalogue.models import AdditionalItem, Catalogue, CatalogueSync, ExamPaper, FormField, Package
from orders.catalogue.services import catalogue_changed

from ..feishu import feishu_keeps_state

PACKAGES = [
    ("pkg-basic", "基础套餐", "工作履历验证 X1，教育背景核实，公民身份验证", 5),
    ("pkg-senior", "高管套餐", "工作履历验证 X3，工作表现评价，民事诉讼调查", 10),
]
ITEMS = [("ext-credit", "个人信用报告", "征信记录核查")]
PAPERS = [("paper-spring", "春季测评", 60, 40)]


def _added(model, defaults: dict, **lookup) -> bool:
    return model.objects.get_or_create(defaults=defaults, **lookup)[1]


def seed() -> None:
    with transaction.atomic():
        added = {
            Catalogue.PACKAGES: [
                *(
                    _added(Package, {"name": name, "description": text, "turnaround_days": days}, code=code)
                    for code, name, text, days in PACKAGES
                ),
                *(
                    _added(AdditionalItem, {"name": name, "description": text}, code=code)
                    for code, name, text in ITEMS
                ),
            ],
            Catalogue.FORM_FIELDS: [
                _added(
                    FormField,
                    {
                        "type": "text",
                        "name_zh": "用人经理",
                        "name_en": "Hiring manager",
                        "is_required": False,
                    },
                    key="hiring_manager",
                )
            ],
            Catalogue.PAPERS: [
                _added(
                    ExamPaper,
                    {"name": name, "duration_minutes": minutes, "question_count": questions},
                    code=code,
                )
                for code, name, minutes, questions in PAPERS
            ],
        }
        if feishu_keeps_state():
            # The sandbox has what it was sent (a push cut short is resumed by the worker): only
            # what the seed added goes out.
            changed = [catalogue for catalogue, news in added.items() if any(news)]
        else:
            # The sandbox starts from its seed: what it was sent before is gone.
            CatalogueSync.objects.update(sent={}, uncertain={}, retired_keys=[])
            changed = list(added)
        for catalogue in changed:
            catalogue_changed(catalogue)
