"""The « Rappels et transferts » page: the callback requests to make and the transfers made, with their summaries.

Only the « rappels » role and administrators open it (studio.accounts.AREAS). The name and number to call
back are shown as given; the summary and the reason are masked (names, birth dates, patient numbers…)
except for phone numbers, which the staff need to call back.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, render_template, request

from core.masking import mask_personal_data
from studio.handovers import handover_requests, services
from studio.web import current_settings

bp = Blueprint("handovers", __name__, url_prefix="/rappels")
PERIODS = (1, 7, 14, 30, 90)


@bp.get("/")
def index():
    settings = current_settings()
    days = request.args.get("jours", type=int)
    days = days if days in PERIODS else 14
    known = services(settings)
    service = request.args.get("service") if request.args.get("service") in known else None
    return render_template(
        "handovers/index.html",
        requests=[
            replace(r, summary=mask_personal_data(r.summary or "", keep_phones=True), reason=mask_personal_data(r.reason or "", keep_phones=True))
            for r in handover_requests(settings, days, service)
        ],
        days=days,
        periods=PERIODS,
        service=service or "",
        services=known,
    )
