"""Which target applies to an agency for a period: one resolver, used by the report's rows and
summary, the agency page, the public page and the administrators' target page."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from survey.models import TargetScope
from survey.periods import Period
from survey.reporting import counts
from survey.reporting.counts import TargetRecord as TargetRule

__all__ = ["TargetResolver", "TargetRule"]


class TargetResolver:
    """The target of an agency for a period: the most specific rule in force on the period's
    first day wins. An agency rule covers that agency and its subtree (the nearest ancestor's
    rule wins); then a rule for the agency's kind; then the rule for all agencies. When several
    rules of one scope are in force, the one that started last wins."""

    def __init__(self, rules: list[TargetRule]):
        self.by_agency: dict[int, TargetRule] = {}
        self.by_kind: dict[str, TargetRule] = {}
        self.general: TargetRule | None = None
        for rule in rules:  # latest first: keep the first of each scope
            if rule.scope == TargetScope.AGENCY.value:
                self.by_agency.setdefault(rule.agency_id, rule)
            elif rule.scope == TargetScope.KIND.value:
                self.by_kind.setdefault(rule.kind, rule)
            elif self.general is None:
                self.general = rule

    @classmethod
    def on(cls, day: date) -> TargetResolver:
        """The rules in force on `day`."""
        return cls(counts.targets_on(day))

    @classmethod
    def for_period(cls, period: Period) -> TargetResolver:
        return cls.on(period.start)

    def rules(
        self, parents: Mapping[int, int | None], kinds: Mapping[int, str]
    ) -> dict[int, TargetRule | None]:
        """The rule of every agency in `parents` ({id: parent id}, the whole tree, so that an
        agency inherits from ancestors outside any view), in one pass with memoised
        lineages."""
        inherited: dict[int, TargetRule | None] = {}

        def agency_rule(agency_id: int) -> TargetRule | None:
            path = []
            current: int | None = agency_id
            while current is not None and current not in inherited and current not in path:
                path.append(current)
                current = parents.get(current)
            found = inherited.get(current) if current is not None else None
            for node in reversed(path):
                found = self.by_agency.get(node, found)
                inherited[node] = found
            return inherited[agency_id]

        return {
            agency_id: agency_rule(agency_id) or self.by_kind.get(kinds[agency_id]) or self.general
            for agency_id in parents
        }
