"""Entities, teams and rules the rules-on-save tests share."""

from __future__ import annotations

import copy
from typing import Any

from tests.rules.fixtures import ACCOUNT, LEAD, OPPORTUNITY

LEAD_RULES = """\
scoring lead_score on lead into score:
    +20 "Came from the website" when source == "website"
    +10 "Large company"         when company_size >= 500
    +min(page_visits * 2, 20) "Engaged visitor"

grading lead_grade on lead from score into grade:
    "hot"  when score >= 30
    "warm" when score >= 10
    "cold" otherwise

routing lead_routing on lead:
    "East goes to Shanghai"    when region == "east"            assign team "shanghai" round robin
    "Hot to key accounts"      when grade == "hot"              assign team "key" least loaded
    "Manufacturing specialist" when industry == "manufacturing" assign user "spec"
    otherwise                                                   assign queue "pool"

trigger hot_follow_up on lead when created and grade == "hot":
    create task "First contact with {company}" for owner due in 24h
    notify owner "New hot lead: {company}"
    set escalated = true
    add tag "vip"
"""

OPPORTUNITY_RULES = """\
validation opportunity_checks on opportunity:
    error "Close date cannot be in the past" when close_date < today() and stage not in ["won", "lost"]
    warning "Large discount"                 when discount > 0.2

table discount_approver on opportunity (first) into approver:
    | amount    | discount | => approver      |
    | >= 500000 | -        | "sales_director" |
    | >= 100000 | > 0.1    | "sales_manager"  |
    | -         | -        | null             |
"""


def install(p: Any, lead_rules: str = LEAD_RULES) -> None:
    """Save the entities and rules through ``p.meta`` and create the teams the rules name."""
    p.clock.set("2026-03-02T09:00:00+00:00")
    for d in (ACCOUNT, LEAD, OPPORTUNITY):
        p.meta.save("entity", d["name"], copy.deepcopy(d), user="admin")
    p.teams.create("shanghai", ["ann", "bo", "cy"])
    p.teams.create("key", ["kim", "lee"])
    p.meta.save("rules", "lead", {"name": "lead", "text": lead_rules}, user="admin")
    p.meta.save("rules", "opportunity", {"name": "opportunity", "text": OPPORTUNITY_RULES})
