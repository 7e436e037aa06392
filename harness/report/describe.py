"""What the report knows of a coder spec and a metric, read from their own declarations.

Coders: :func:`coder_view` asks :func:`harness.coders.make_coder` for the family, short label, rate
parameter and rate order that the coder class declares. A results folder may name a coder this build does
not have (a submission from another company, an older suite); such a spec still gets a view: its own
family and label (the spec itself), no rate parameter, sorted after the known coders by its text. So the
report never guesses a rate parameter from a name.

Metrics: :func:`metric_view` reads the :class:`harness.scenarios.base.Metric` a scenario class declares
(unit, direction). An undeclared metric (unknown scenario, structure rows) has unit "" and direction None;
the callers say what they assume then.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# results rows that involve no coder name one of these (harness.pytest_plugin.add_row writes "none")
NO_CODER = ("none", "")


@dataclass(frozen=True)
class CoderView:
    spec: str
    family: str
    label: str
    rate_param: str | None
    rate: Any
    known: bool
    lossless: bool | None

    def sort_key(self) -> tuple:
        """Known coders first; single-point coders (lossless ones first: raw before fp16) before swept families;
        each family's rate points from most to fewest bytes (the coder's own numeric order); unknown specs by text."""
        if not self.known:
            return (1, 0, self.family, 0.0, self.spec)
        from harness.coders import make_coder

        family, value = make_coder(self.spec).rate_sort_key()
        rank = (0 if self.lossless else 1) if self.rate_param is None else 2
        return (0, rank, family, value, self.spec)


@lru_cache(maxsize=4096)
def coder_view(spec: str) -> CoderView:
    """The declarations of the coder ``spec`` names; a spec this build cannot parse gets a neutral view."""
    from harness.coders import make_coder

    try:
        coder = make_coder(spec)
    except (ValueError, KeyError):
        return CoderView(spec, spec, spec, None, None, False, None)
    return CoderView(spec, coder.family, coder.label, coder.rate_param, coder.rate, True, coder.is_lossless)


#: a curve of a detector whose part 2 was re-trained from another (rows with ``base_model``), shown among the
#: base model's curves: ``<coder family> @ <detector>``
VARIANT_SEPARATOR = " @ "


def family_label(family: str) -> str:
    """``nncodec:dq=1,...`` -> ``nncodec``: the coder name, for legends (the full family is in the legend table);
    ``hevc:bits=8,... @ ssd_small_cat90`` -> ``hevc @ ssd_small_cat90``."""
    family, _, variant = family.partition(VARIANT_SEPARATOR)
    name = family.split(":", 1)[0]
    return f"{name}{VARIANT_SEPARATOR}{variant}" if variant else name


@dataclass(frozen=True)
class MetricView:
    name: str
    unit: str
    higher_is_better: bool | None
    declared: bool


@lru_cache(maxsize=1024)
def metric_view(scenario: str, metric: str) -> MetricView:
    """The metric ``metric`` as scenario ``scenario`` declares it, or an undeclared view."""
    from harness.scenarios import SCENARIOS

    if scenario in SCENARIOS:
        for declared in SCENARIOS.get(scenario).metrics:
            if declared.name == metric:
                return MetricView(metric, declared.unit, declared.higher_is_better, True)
    return MetricView(metric, "", None, False)


def higher_is_better(scenario: str, metric: str) -> bool:
    """Direction for Pareto fronts; an undeclared metric is taken as higher-is-better (the report says so)."""
    direction = metric_view(scenario, metric).higher_is_better
    return True if direction is None else direction


def is_coder_row(row: dict[str, Any]) -> bool:
    """A row measured through a coder (not a structure/anchor-free row)."""
    return str(row.get("coder_name", "")) not in NO_CODER
