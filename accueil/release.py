"""The one deployment flow, for `accueil deploy`, `accueil rollback` and the studio's pipeline page.

  * `build`: validate the training data, build the candidate model (accueil.deployment), measure the production
    model, apply the gate (accueil.gate): one `Build` the callers show;
  * `deploy`: the candidate into production (the gate again, unless forced), with its audit record;
  * `rollback`: the previous model back, with its audit record.

Progress goes through the `accueil.training.Progress` protocol: the studio's job context, the command line's
status line. The audit records go to the studio's audit log, whoever deployed. `studio_flow` gives the studio
these operations (studio/flow.py), since the studio does not import the orchestration package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from accueil import deployment
from accueil.deployment import Candidate, DeployResult
from accueil.gate import FIGURE_LABELS, ModelFigures, Verdict, gate, points
from accueil.training import NoProgress, Progress
from core.settings import Settings
from studio.audit import record
from studio.db import session_scope
from studio.flow import DeploymentFlow


@dataclass(frozen=True)
class Build:
    """A check of the training data and, when they are valid, the candidate measured and judged against production."""

    problems: list[str] = field(default_factory=list)  # French; none when the data are valid
    candidate: Candidate | None = None
    production: ModelFigures | None = None  # None without production model
    verdict: Verdict | None = None
    same_as_production: bool = False  # the candidate is the model in production already
    report_dir: str = ""  # the candidate's evaluation reports (its confusion matrix)

    @property
    def passed(self) -> bool:
        return self.verdict is not None and self.verdict.passed

    def as_dict(self) -> dict:
        """What the studio keeps of it (JSON)."""
        if self.candidate is None:
            return {"problems": list(self.problems)}
        result = deployment.result_summary(self.candidate, self.production, self.verdict)
        result.update(same_as_production=self.same_as_production, report_dir=self.report_dir)
        return result


def build(settings: Settings, out_dir: Path, progress: Progress | None = None, full: bool = False) -> Build:
    """Validate, train (fine-tune, or in full when `full`) or reuse, evaluate, compare with production, gate."""
    progress = progress or NoProgress()
    progress.step("Validation des données : rasa data validate et contrôles d'Accueil", 1)
    problems = deployment.validate(settings, progress)
    if problems:
        return Build(problems=problems)
    progress.step("Données valides", 5)
    candidate = deployment.build_candidate(settings, out_dir, progress, full=full)
    progress.step("Chiffres du modèle en production", 95)
    production = deployment.production_figures(settings, out_dir / "production", progress)
    verdict = gate(candidate.figures, production)
    current = deployment.current(settings)
    stored = deployment.stored_evaluation(settings, candidate.model, deployment.holdout_fingerprint(settings))
    progress.step("Verdict rendu", 100)
    return Build(
        candidate=candidate,
        production=production,
        verdict=verdict,
        same_as_production=current is not None and current.model.resolve() == candidate.model.resolve(),
        report_dir=stored.report_dir if stored else "",
    )


def _audit(settings: Settings, by: str, action: str, target: str, detail: dict) -> None:
    with session_scope(settings) as db:
        record(db, by, action, target, detail)


def deploy(
    settings: Settings, model: Path, by: str, force: bool = False, out_dir: Path | None = None, progress: Progress | None = None
) -> DeployResult:
    """`model` into production if the gate lets it (or `force`), audited as done by `by`."""
    result = deployment.deploy(settings, model, by, force=force, out_dir=out_dir, progress=progress)
    if result.deployed:
        action = "modèle déployé (forcé)" if result.deployment.forced else "modèle déployé"
        reasons = result.verdict.reasons if result.verdict else []
        _audit(settings, by, action, Path(model).name, {"chargé": result.loaded, "raisons": list(reasons)})
    return result


def rollback(settings: Settings, by: str, progress: Progress | None = None) -> DeployResult:
    """The previous model back into production, audited as done by `by`."""
    result = deployment.rollback(settings, by, progress=progress)
    _audit(settings, by, "retour au modèle précédent", result.deployment.name, {"chargé": result.loaded})
    return result


def studio_flow() -> DeploymentFlow:
    """This flow, as the studio's pipeline page uses it."""
    return DeploymentFlow(
        build=build,
        deploy=deploy,
        rollback=rollback,
        current=deployment.current,
        previous=deployment.previous,
        history=deployment.history,
        data_changed=deployment.data_changed_since_deployment,
        figure_labels=FIGURE_LABELS,
        points=points,
    )
