"""Deterministic lead records for benchmarks: the same seed gives the same records everywhere.

``LEAD_DEFINITION`` is a lead entity in the shape of ``apps/*/entities/*.yaml``;
:func:`generate_leads` returns records in the Python form the record API takes
(aware datetimes, dates, Decimals), a chosen share of them broken in one field,
so each bench measures the same mix of good and bad input.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
import string
from decimal import Decimal
from typing import Any

SOURCES = ["website", "expo", "referral", "ads", "social"]
STATUSES = ["new", "contacted", "qualified", "lost", "won"]
INDUSTRIES = ["retail", "manufacturing", "finance", "education", "health", "software"]
TAGS = ["vip", "new", "partner", "reseller", "cold"]


def _label(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh-CN": zh}


LEAD_DEFINITION: dict[str, Any] = {
    "name": "lead",
    "label": _label("Lead", "线索"),
    "title_field": "company",
    "schema": {
        "type": "object",
        "required": ["company", "status"],
        "properties": {
            "company": {"type": "string", "maxLength": 200, "x-label": _label("Company", "公司")},
            "contact_name": {
                "type": "string",
                "maxLength": 100,
                "x-label": _label("Contact", "联系人"),
            },
            "email": {"type": "string", "format": "email", "x-label": _label("Email", "邮箱")},
            "phone": {"type": "string", "x-type": "phone", "x-label": _label("Phone", "电话")},
            "country": {
                "type": "string",
                "pattern": "^[A-Z]{2}$",
                "x-label": _label("Country", "国家"),
            },
            "source": {"type": "string", "enum": SOURCES, "x-label": _label("Source", "来源")},
            "status": {"type": "string", "enum": STATUSES, "x-label": _label("Status", "状态")},
            "industry": {
                "type": "string",
                "enum": INDUSTRIES,
                "x-label": _label("Industry", "行业"),
            },
            "company_size": {
                "type": "integer",
                "minimum": 0,
                "x-label": _label("Company size", "公司规模"),
            },
            "rating": {
                "type": "integer",
                "minimum": 1,
                "maximum": 5,
                "x-label": _label("Rating", "评级"),
            },
            "budget": {
                "type": "number",
                "x-type": "currency",
                "minimum": 0,
                "x-label": _label("Budget", "预算"),
            },
            "is_qualified": {"type": "boolean", "x-label": _label("Qualified", "已确认")},
            "do_not_contact": {"type": "boolean", "x-label": _label("Do not contact", "勿扰")},
            "created_at": {
                "type": "string",
                "format": "date-time",
                "x-label": _label("Created at", "创建时间"),
            },
            "close_date": {
                "type": "string",
                "format": "date",
                "x-label": _label("Expected close", "预计成交日期"),
            },
            "tags": {
                "type": "array",
                "items": {"type": "string", "enum": TAGS},
                "uniqueItems": True,
                "x-label": _label("Tags", "标签"),
            },
        },
    },
}

_WORDS = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Tyrell",
    "华为",
    "云杉",
]
_SUFFIXES = ["Ltd", "GmbH", "Inc", "有限公司", "SA", "BV"]
_COUNTRIES = ["CN", "DE", "FR", "US", "GB", "JP", "BR"]
_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def _valid_lead(rng: random.Random) -> dict[str, Any]:
    created = _EPOCH + dt.timedelta(seconds=rng.randrange(0, 3 * 365 * 86400))
    name = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 10)))
    lead: dict[str, Any] = {
        "company": f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {rng.choice(_SUFFIXES)}",
        "contact_name": name.title(),
        "email": f"{name}@example{rng.randint(1, 99)}.com",
        "phone": f"+{rng.randint(1, 99)} {rng.randint(100000, 999999999)}",
        "country": rng.choice(_COUNTRIES),
        "source": rng.choice(SOURCES),
        "status": rng.choice(STATUSES),
        "industry": rng.choice(INDUSTRIES),
        "company_size": rng.randint(1, 50000),
        "rating": rng.randint(1, 5),
        "budget": Decimal(rng.randint(0, 10_000_000)) / 100,
        "is_qualified": rng.random() < 0.4,
        "do_not_contact": rng.random() < 0.05,
        "created_at": created,
        "close_date": (created + dt.timedelta(days=rng.randint(7, 180))).date(),
        "tags": rng.sample(TAGS, rng.randint(0, 3)),
    }
    for optional in ("contact_name", "phone", "industry", "budget", "close_date"):
        if rng.random() < 0.1:
            del lead[optional]  # optional fields are often left out
    return lead


def _break(lead: dict[str, Any], rng: random.Random) -> None:
    """Spoil one field the way a bad import or a buggy client would."""
    fault = rng.randrange(10)
    if fault == 0:
        lead["company"] = "X" * 201
    elif fault == 1:
        lead["email"] = "no-at-sign.example.com"
    elif fault == 2:
        lead["status"] = "unknown"
    elif fault == 3:
        lead["rating"] = 7
    elif fault == 4:
        lead["company_size"] = True  # a boolean is not a number
    elif fault == 5:
        lead["close_date"] = "2026-02-30"
    elif fault == 6:
        lead["created_at"] = lead["created_at"].replace(tzinfo=None)  # no offset
    elif fault == 7:
        lead["tags"] = ["vip", "vip"]
    elif fault == 8:
        lead["country"] = "usa"
    else:
        del lead["company"]


def generate_leads(n: int, seed: int = 0, invalid_ratio: float = 0.0) -> list[dict[str, Any]]:
    """``n`` lead records in Python form; about ``invalid_ratio`` of them fail validation."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        lead = _valid_lead(rng)
        if invalid_ratio and rng.random() < invalid_ratio:
            _break(lead, rng)
        out.append(lead)
    return out


# -- leads for the rule benches ------------------------------------------------------
#
# ``generate_leads`` has no title, region, pricing download or page visits, and
# existing benches must keep seeing exactly the same records for a seed, so the
# scoring workload has its own definition and generator (its own random stream).

REGIONS = ["east", "north", "south", "west"]
GRADES = ["hot", "warm", "cold"]

#: The lead entity plus the fields lead scoring and routing read and write.
SCORING_LEAD_DEFINITION: dict[str, Any] = copy.deepcopy(LEAD_DEFINITION)
SCORING_LEAD_DEFINITION["schema"]["properties"].update(
    {
        "title": {"type": "string", "maxLength": 100, "x-label": _label("Job title", "职位")},
        "region": {"type": "string", "enum": REGIONS, "x-label": _label("Region", "区域")},
        "downloaded_pricing": {
            "type": "boolean",
            "x-label": _label("Downloaded pricing", "下载了价格表"),
        },
        "page_visits": {
            "type": "integer",
            "minimum": 0,
            "x-label": _label("Page visits", "页面访问"),
        },
        "score": {"type": "integer", "readOnly": True, "x-label": _label("Score", "评分")},
        "grade": {"type": "string", "enum": GRADES, "x-label": _label("Grade", "等级")},
    }
)

#: Mixed case on purpose: ``contains`` ignores case, so "IT DIRECTOR" and "SVP" count.
_TITLES = [
    "Sales Director",
    "IT DIRECTOR",
    "Director of Finance",
    "VP Marketing",
    "SVP Operations",
    "Chief Executive Officer",
    "Purchasing Manager",
    "Software Engineer",
    "Office Assistant",
    "Buyer",
    "Marketing Lead",
    "Intern",
    "采购经理",
]

#: The scoring leads were created in the 120 days before this moment (the benches'
#: fixed clock), so ``days_since(created_at)`` is the same on every run.
SCORING_NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def generate_scoring_leads(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` leads with every field scoring, grading and routing read, none missing
    (source, industry, company_size, title, region, downloaded_pricing, page_visits,
    created_at as an aware UTC datetime in the 120 days before :data:`SCORING_NOW`)."""
    rng = random.Random(seed)
    end = SCORING_NOW.astimezone(dt.UTC)
    out = []
    for _ in range(n):
        out.append(
            {
                "source": rng.choice(SOURCES),
                "industry": rng.choice(INDUSTRIES),
                # from 1 to about 20,000 people, small companies the most common
                "company_size": int(10 ** rng.uniform(0, 4.3)),
                "title": rng.choice(_TITLES),
                "region": rng.choice(REGIONS),
                "downloaded_pricing": rng.random() < 0.45,
                "page_visits": rng.randint(0, 25),
                "created_at": end - dt.timedelta(seconds=rng.randrange(0, 120 * 86400)),
            }
        )
    return out


__all__ = [
    "GRADES",
    "LEAD_DEFINITION",
    "REGIONS",
    "SCORING_LEAD_DEFINITION",
    "SCORING_NOW",
    "generate_leads",
    "generate_scoring_leads",
]
