"""What the pipeline page needs of the deployment flow, which the orchestration package owns (accueil/release.py).

`create_app` is given a `DeploymentFlow` (accueil/studio_serve.py builds the served studio with it): the studio
starts its steps as background jobs, passing their `JobContext` as progress, and shows their progress and
results; it never validates, trains, gates or deploys by itself. An app made without a flow serves every other
page; its pipeline pages answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import abort, current_app

EXTENSION = "accueil_flow"


@dataclass(frozen=True)
class DeploymentFlow:
    # (settings, out_dir, progress) → the check: `.problems` (French), `.passed`, `.as_dict()` (JSON, kept by the job)
    build: Callable[..., Any]
    # (settings, model, by, out_dir=, progress=) → `.deployed`, `.loaded`, `.message`, `.verdict`; audited by the flow
    deploy: Callable[..., Any]
    # (settings, by, progress=) → `.loaded`, `.message`, `.deployment`; audited by the flow
    rollback: Callable[..., Any]
    # The production model and its history: (settings) → a row or None, (settings, limit=) → rows, (settings) → bool
    current: Callable[..., Any]
    previous: Callable[..., Any]
    history: Callable[..., Any]
    data_changed: Callable[..., bool]
    # The figures the gate compares, with their French names, and a difference of F1 in French points
    figure_labels: tuple[tuple[str, str], ...]
    points: Callable[[float], str]


def current_flow() -> DeploymentFlow:
    """The running application's flow; 404 on an app made without one."""
    flow = current_app.extensions.get(EXTENSION)
    if flow is None:
        abort(404)
    return flow
