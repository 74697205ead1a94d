"""The KPI catalogue (docs/domain.md §7): every KPI defined once, with its definition and computation.

One module per KPI family; each registers its KPIs in `CATALOGUE` when imported.
"""

from services.projections.kpis import (  # noqa: F401 - registers
    economy,
    flow,
    funnel,
    outcome,
    outreach,
    process,
    recovery,
    structure,
)
from services.projections.kpis.common import CATALOGUE, Context, Filters, Kpi, Params, Window

__all__ = ["CATALOGUE", "Context", "Filters", "Kpi", "Params", "Window"]
