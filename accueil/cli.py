"""The `accueil` command: run, shell, train, eval, deploy, rollback, knowledge base, studio accounts, purge, voice models."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from core.settings import Settings, get_settings

console = Console(soft_wrap=True)

# Set before anything imports Rasa, in this process and every child.
os.environ["RASA_TELEMETRY_ENABLED"] = "false"


COUNT_LABELS = {"places": "lieux", "wards": "services", "articles": "articles"}


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {COUNT_LABELS.get(what, what)}" for what, n in counts.items())


def _print_changes(changes) -> None:
    for line in changes.describe():
        console.print(f"  {line}", highlight=False)


def _sync_kb(settings: Settings, source: str | None, dry_run: bool = False, only_if_changed: bool = False) -> int:
    from rich.progress import Progress

    from kb_sync.errors import ContentInvalid
    from kb_sync.sources import configured_source
    from kb_sync.sync import sync

    folder = source or settings.kb_source
    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("Écriture de la base de connaissances", total=None)  # total known once validated
            report = sync(
                configured_source(settings, folder),
                settings.db_url,
                dry_run=dry_run,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                only_if_changed=only_if_changed,
            )
    except ContentInvalid as exc:
        console.print(f"[bold red]{exc.describe()}[/]", highlight=False)
        console.print("La base de connaissances précédente reste en service.")
        return 1
    if report.unchanged:
        console.print(f"Base de connaissances à jour ({_counts(report.counts)}) : aucun changement dans {folder}.", highlight=False)
    elif report.dry_run:
        console.print(f"Simulation : la synchronisation depuis {folder} changerait ceci (rien n'a été écrit) :", highlight=False)
        _print_changes(report.changes)
    else:
        console.print(f"Base de connaissances synchronisée depuis {folder} : {_counts(report.counts)}. Version {report.version} :", highlight=False)
        _print_changes(report.changes)
    return 0


def cmd_kb_sync(args: argparse.Namespace) -> int:
    return _sync_kb(get_settings(), args.source, dry_run=args.dry_run)


def cmd_kb_history(args: argparse.Namespace) -> int:
    from kb_sync.versions import all_versions
    from store.engine import session_factory
    from store.migrate import upgrade

    settings = get_settings()
    upgrade(settings.db_url)
    with session_factory(settings.db_url)() as session:
        versions = all_versions(session)[: args.limit]
        if not versions:
            console.print("Aucune version : lancez « accueil kb sync ».")
        for v in versions:
            changes = f"+{len(v.changes['added'])} ~{len(v.changes['changed'])} -{len(v.changes['removed'])}"
            console.print(
                f"{v.id:>4}  {v.created_at:%Y-%m-%d %H:%M:%S} UTC  {changes:<12} {_counts(v.counts)}  "
                f"empreinte {v.checksum[:12]}  {v.source}",
                highlight=False,
            )
    return 0


def cmd_kb_rollback(args: argparse.Namespace) -> int:
    from kb_sync.sync import UnknownVersion, rollback

    settings = get_settings()
    try:
        report = rollback(settings.db_url, args.version)
    except UnknownVersion:
        console.print(f"[bold red]La version {args.version} n'existe pas[/] (voir « accueil kb history »).")
        return 1
    if report.unchanged:
        console.print(f"La base de connaissances est déjà celle de la version {args.version}.")
    else:
        console.print(f"Retour à la version {args.version}, enregistré comme version {report.version} :")
        _print_changes(report.changes)
    return 0


def cmd_kb_export(args: argparse.Namespace) -> int:
    from kb_sync.errors import ContentInvalid
    from kb_sync.sources import configured_source, export_folder_to_spreadsheet

    settings = get_settings()
    try:
        content = configured_source(settings, args.source).read()
    except ContentInvalid as exc:
        console.print(f"[bold red]{exc.describe()}[/]", highlight=False)
        return 1
    export_folder_to_spreadsheet(content, args.target)
    console.print(f"Base de connaissances exportée vers {args.target} ({_counts(content.counts())}).", highlight=False)
    return 0


def cmd_kb_watch(args: argparse.Namespace) -> int:
    settings = get_settings()
    console.print(f"Synchronisation toutes les {args.interval} s depuis {args.source or settings.kb_source} (Ctrl-C pour arrêter).", highlight=False)
    # Ctrl-C and SIGTERM stop it even when started in the background, where SIGINT is ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            started = time.strftime("%H:%M:%S")
            console.print(f"[dim]{started}[/] ", end="")
            _sync_kb(settings, args.source)
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


def cmd_train(args: argparse.Namespace) -> int:
    from accueil.training import train_if_needed

    result = train_if_needed(get_settings(), force=args.force)
    if result.trained:
        console.print(f"Model trained in {result.seconds:.0f} s: {result.model}")
    else:
        console.print(f"Model up to date, no training needed: {result.model}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from accueil.evaluation import TARGETS, EvaluationError, evaluate
    from accueil.training import train_if_needed

    settings = get_settings()
    with console.status("Modèle : entraînement seulement si ses données ont changé…"):
        model = train_if_needed(settings, quiet=True).model
    try:
        with console.status("Évaluation…") as status:
            result = evaluate(settings, model, args.out, folds=args.folds, progress=lambda text: status.update(f"Évaluation : {text}…"))
    except EvaluationError as exc:
        console.print(f"[bold red]{exc}[/]")
        return 1
    summary = result.summary
    console.print(f"Jeu de test réservé ({summary['n_examples']} exemples, {summary['n_intents']} intentions) :")
    console.print(f"  exactitude des intentions   {summary['intent_accuracy']:.3f}")
    console.print(f"  F1 macro des intentions     {summary['intent_macro_f1']:.3f}   (objectif ≥ {TARGETS['intent_macro_f1']})")
    console.print(f"  F1 macro des entités        {summary['entity_macro_f1']:.3f}   (objectif ≥ {TARGETS['entity_macro_f1']})")
    if "cross_validation" in summary:
        cv = summary["cross_validation"]
        console.print(f"Validation croisée en {cv['folds']} plis : F1 macro intentions {cv['intent_macro_f1']:.3f}, entités {cv['entity_macro_f1']:.3f}")
    conversations_ok = True
    if args.conversations:
        from accueil.conversations import TARGET_SUCCESS, measure

        with console.status("Conversations de test…") as status:
            conv = measure(settings, model, args.out / "conversations", progress=lambda done, total: status.update(f"Conversations de test : {done}/{total}…"))
        conversations_ok = conv["conversation_success"] >= TARGET_SUCCESS
        console.print(
            f"Conversations de test ({conv['conversations']}, jamais apprises) : réussies {conv['conversation_success']:.1%} "
            f"(objectif ≥ {TARGET_SUCCESS:.0%}), tours justes {conv['turn_accuracy']:.1%}"
        )
        for style, figures in conv["by_style"].items():
            console.print(f"  {style:<6} conversations {figures['conversation_success']:.1%}, tours {figures['turn_accuracy']:.1%}")
        console.print(f"Conversations échouées : {args.out / 'conversations' / 'failed.md'}")
    console.print(f"Rapports : {result.out_dir}")
    return 0 if result.meets_targets and conversations_ok else 2


class _StatusProgress:
    """Long operations' progress on a rich status line."""

    def __init__(self, status) -> None:
        self.status = status

    def step(self, text: str, percent: float | None = None) -> None:
        self.status.update(text if percent is None else f"{text} ({percent:.0f} %)")

    def log(self, line: str) -> None:
        pass


def _command_line_user() -> str:
    import getpass

    return f"ligne de commande ({getpass.getuser()})"


def _print_comparison(candidate, production) -> None:
    from accueil.gate import FIGURE_LABELS, french_number, points

    def figure(value) -> str:
        return "—" if value is None else french_number(value)

    def emergencies(figures) -> str:
        if figures is None or figures.emergency_misses is None:
            return "—"
        return f"{figures.emergency_checked - len(figures.emergency_misses)}/{figures.emergency_checked}"

    def conversations(figures) -> str:
        if figures is None or figures.conversations is None:
            return "—"
        return f"{figures.conversations_ok}/{figures.conversations}"

    table = Table("jeu de test réservé", "en production", "nouveau modèle", "écart", box=None)
    for key, label in FIGURE_LABELS:
        new, old = getattr(candidate, key), getattr(production, key) if production else None
        table.add_row(label, figure(old), figure(new), points(new - old) if new is not None and old is not None else "—")
    table.add_row("phrases d'urgence reconnues", emergencies(production), emergencies(candidate), "")
    table.add_row("conversations de test réussies", conversations(production), conversations(candidate), "")
    console.print(table)
    if production is not None:
        changed = [
            (intent, production.per_intent_f1.get(intent), f1)
            for intent, f1 in candidate.per_intent_f1.items()
            if production.per_intent_f1.get(intent) is None or abs(f1 - production.per_intent_f1[intent]) >= 0.005
        ]
        if changed:
            console.print("F1 des intentions qui changent :")
        for intent, old, new in changed:
            console.print(f"  {intent:<32} {figure(old)} → {figure(new)}", highlight=False)


def cmd_deploy(args: argparse.Namespace) -> int:
    """Shows the progress and results of the deployment flow (accueil.release), in full training."""
    from accueil import release
    from accueil.deployment import DeploymentError

    settings = get_settings()
    out_dir = settings.var_dir / "deployments" / time.strftime("%Y%m%d-%H%M%S")
    try:
        with console.status("Validation des données d'entraînement…") as status:
            built = release.build(settings, out_dir, _StatusProgress(status), full=True)
    except DeploymentError as exc:
        console.print(f"[bold red]{exc}[/]", highlight=False)
        return 1
    if built.problems:
        console.print("[bold red]Les données d'entraînement ont des problèmes :[/]")
        for problem in built.problems:
            console.print(f"  • {problem}", highlight=False)
        console.print("Rien n'a été entraîné ni déployé.")
        return 1
    candidate = built.candidate
    console.print(f"Modèle candidat : {candidate.model.name}. {candidate.reason}", highlight=False)
    _print_comparison(candidate.figures, built.production)
    for reason in built.verdict.reasons:
        console.print(f"  • {reason}", highlight=False)
    if not built.passed and not args.force:
        console.print("[bold red]Déploiement refusé.[/] Le modèle en production reste en service (« --force » passe outre).")
        return 2
    if built.same_as_production:
        console.print(f"Ce modèle est déjà en production : {candidate.model.name}.", highlight=False)
        return 0
    try:
        with console.status("Déploiement…") as status:
            progress = _StatusProgress(status)
            result = release.deploy(settings, candidate.model, _command_line_user(), force=args.force, out_dir=out_dir, progress=progress)
    except DeploymentError as exc:
        console.print(f"[bold red]{exc}[/]", highlight=False)
        return 1
    if not result.deployed:
        console.print(f"[bold red]{result.message}[/]", highlight=False)
        return 2
    console.print(f"[bold green]Déployé :[/] {candidate.model.name}. {result.message}", highlight=False)
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from accueil import release
    from accueil.deployment import DeploymentError

    settings = get_settings()
    try:
        with console.status("Retour au modèle précédent…") as status:
            result = release.rollback(settings, _command_line_user(), progress=_StatusProgress(status))
    except DeploymentError as exc:
        console.print(f"[bold red]{exc}[/]", highlight=False)
        return 1
    console.print(f"[bold green]Modèle précédent remis en production :[/] {result.deployment.name}. {result.message}", highlight=False)
    return 0


def _read_new_password(from_stdin: bool) -> str | None:
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Mot de passe (12 caractères au moins) : ")
    if getpass.getpass("Le même, encore : ") != first:
        console.print("[bold red]Les deux mots de passe diffèrent.[/]")
        return None
    return first


def cmd_users_add(args: argparse.Namespace) -> int:
    from sqlalchemy import func, select

    from studio.accounts import ROLES, AccountError, User, create_user
    from studio.audit import record
    from studio.db import session_scope

    settings = get_settings()
    with session_scope(settings) as db:
        role = args.role or ("admin" if db.scalar(select(func.count(User.id))) == 0 else "editor")
    password = _read_new_password(args.password_stdin)
    if password is None:
        return 1
    try:
        with session_scope(settings) as db:
            user = create_user(db, args.username, password, role)
            record(db, "ligne de commande", "compte créé", user.username, {"rôle": role})
    except AccountError as exc:
        console.print(f"[bold red]{exc}[/]", highlight=False)
        return 1
    console.print(f"Compte « {user.username} » créé ({ROLES[role]}) : connexion sur {settings.studio_url}/", highlight=False)
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from studio.accounts import User
    from studio.db import session_scope

    with session_scope(get_settings()) as db:
        users = list(db.scalars(select(User).order_by(User.username)))
        if not users:
            console.print("Aucun compte : créez le premier administrateur avec « accueil users add NOM ».")
        for user in users:
            state = "actif" if user.active else "désactivé"
            console.print(f"{user.username:<24} {user.role_label:<15} {state}", highlight=False)
    return 0


def _prepare(settings: Settings) -> Path | None:
    """Knowledge base and model, as `run` and `shell` need them; None on failure.

    The model is the deployed one (see `accueil deploy` and the studio); on a first start, the model of
    the current data, trained if needed and recorded as the first deployment.
    """
    from accueil.deployment import current, data_changed_since_deployment, model_to_serve

    if _sync_kb(settings, None, only_if_changed=True) != 0:  # a restart keeps a knowledge-base rollback made since
        return None
    first = current(settings) is None
    with console.status("Checking the Rasa model (training only on a first start)…"):
        started = time.perf_counter()
        model = model_to_serve(settings)
    if first:
        console.print(f"Model {model.name} ready in {time.perf_counter() - started:.0f} s, recorded as the first deployment.")
    else:
        console.print(f"Model in production: {model.name}")
        if data_changed_since_deployment(settings):
            console.print(
                "[yellow]The training data changed since this model was deployed: the changes go live through the studio "
                "or `accueil deploy` (evaluated, and refused if the model got worse).[/]"
            )
    return model


def _interrupt(*_) -> None:
    """SIGTERM stops Accueil as cleanly as Ctrl-C does."""
    raise KeyboardInterrupt


def cmd_run(args: argparse.Namespace) -> int:
    from accueil.servers import (
        StartupError,
        action_server,
        rasa_servers,
        shared_ports_taken,
        studio_server,
        voice_gateway,
        voice_problem,
        web_server,
    )
    from accueil.supervision import Supervisor, supervisor_log

    settings = get_settings()
    if not settings.rasa_api_token:  # the voice gateway, the studio and `accueil deploy` use Rasa's API
        from accueil.rasa_api import new_api_token

        settings = settings.copy(update={"rasa_api_token": new_api_token(settings)})
    started = time.perf_counter()
    model = _prepare(settings)
    if model is None:
        return 1
    no_voice = voice_problem(settings)
    if no_voice is not None:  # the widget then shows no call button
        settings = settings.copy(update={"voice_enabled": False})
    from core.metrics import MULTIPROC_ENV
    from core.metrics import reset as reset_metrics

    reset_metrics(settings.metrics_dir)  # the studio's /metrics counts from this start
    os.environ[MULTIPROC_ENV] = str(settings.metrics_dir)  # the supervisor's own metrics (restarts) go there too
    processes = [
        action_server(settings, settings.log_dir),
        *rasa_servers(settings, model, settings.log_dir),
        web_server(settings, settings.log_dir),
        studio_server(settings, settings.log_dir),
    ]
    if no_voice is None:
        processes += voice_gateway(settings, settings.log_dir)
    taken = shared_ports_taken(settings)
    if taken:
        console.print(f"[bold red]Startup failed:[/] already in use: {', '.join(taken)}. Is Accueil already running?", highlight=False)
        return 1
    signal.signal(signal.SIGTERM, _interrupt)
    if settings.log_content:
        from core.logs import CONTENT_WARNING

        console.print(f"[bold red]WARNING[/] {CONTENT_WARNING}", highlight=False)
    console.print(f"Starting the {', '.join(p.name for p in processes if not p.name[-1].isdigit())}…")
    try:
        supervisor_log(settings)
        with Supervisor(processes, settings.startup_timeout) as supervisor:
            base = settings.rasa_url  # the public door: the web channels only
            console.print(f"\n[bold green]Accueil is running[/] (started in {time.perf_counter() - started:.1f} s)")
            console.print(f"  demo site        [bold]{settings.web_url}/[/]  (the chat widget, bottom right)")
            console.print(f"  widget script    {settings.web_url}/widget/accueil-widget.js")
            console.print(f"  editors' studio  [bold]{settings.studio_url}/[/]  (accounts: accueil users add NAME)")
            console.print(f"  REST webhook     {base}/webhooks/rest/webhook")
            console.print(f"  socket.io        {base}/socket.io")
            console.print(f"  action server    {settings.action_endpoint_url}")
            console.print(f"  Rasa's API       {settings.rasa_api_url}  (private bind, with the API token)")
            if settings.rasa_replicas > 1:
                console.print(
                    f"  Rasa servers     {settings.rasa_replicas}, side by side (the others start now): while one restarts "
                    "or loads a model, the others answer"
                )
            if no_voice is None:
                ports = ", ".join(map(str, settings.sip_ports))
                console.print(f"  phone (SIP)      sip:accueil@{settings.sip_host}, ports {ports}  (peers allowed: {', '.join(settings.sip_allowed_peers) or 'all'})")
                console.print(f"  phone (browser)  {settings.voice_url}")
            else:
                console.print(f"  [yellow]voice gateway    not started: {no_voice}[/]", highlight=False)
            console.print(f"  logs             {settings.log_dir}")
            from accueil.purge_schedule import start_daily_purge
            from core.secret_files import metrics_token

            metrics_token(settings)  # written now, so that Prometheus finds its credentials file before its first scrape
            token_from = "ACCUEIL_METRICS_TOKEN" if settings.metrics_token else settings.var_dir / "metrics_token"
            console.print(f"  metrics          {settings.studio_url}/metrics  (bearer token: {token_from})", highlight=False)
            if start_daily_purge(settings) is not None:
                console.print(f"  purge            daily at {settings.purge_time:%H:%M}, data older than {settings.retention_days} days")
            console.print(f"  supervision      a server that stops is restarted ({settings.log_dir / 'supervisor.log'})", highlight=False)
            console.print("Press Ctrl-C to stop.")
            supervisor.watch()  # until Ctrl-C or SIGTERM
    except StartupError as exc:
        console.print(f"[bold red]Startup failed:[/] {exc}", highlight=False)
        return 1
    except KeyboardInterrupt:
        console.print("Stopped.")
        return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    """Under systemd (accueil-prepare.service): what `accueil run` does before it starts the servers."""
    from core.metrics import reset as reset_metrics
    from core.secret_files import metrics_token

    settings = get_settings()
    if not settings.rasa_api_token:
        from accueil.rasa_api import new_api_token

        new_api_token(settings)
    if _prepare(settings) is None:
        return 1
    reset_metrics(settings.metrics_dir)
    metrics_token(settings)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from accueil.service import serve

    return serve(args.part)


def cmd_shell(args: argparse.Namespace) -> int:
    from accueil.rasa_endpoints import write_endpoints
    from accueil.servers import StartupError, action_server, running

    settings = get_settings()
    model = _prepare(settings)
    if model is None:
        return 1
    command = [sys.executable, "-m", "rasa", "shell", "--model", str(model), "--endpoints", str(write_endpoints(settings))]
    console.print("Starting the action server…")
    try:
        with running([action_server(settings, settings.log_dir)], settings.startup_timeout):
            return subprocess.call(command, env=settings.rasa_environment(), cwd=settings.bot_dir.parent)
    except StartupError as exc:
        console.print(f"[bold red]Startup failed:[/] {exc}", highlight=False)
        return 1
    except KeyboardInterrupt:
        return 0


def cmd_models_status(args: argparse.Namespace) -> int:
    from voice_gateway.models import load_manifest, status

    settings = get_settings()
    wanted = {settings.vosk_model, settings.piper_voice}
    table = Table("model", "kind", "state", "folder", box=None)
    for item in status(settings.models_dir, load_manifest()):
        state = "[green]installed[/]" if item.installed else ("[red]missing[/]" if item.name in wanted else "[dim]not installed[/]")
        table.add_row(item.name + (" *" if item.name in wanted else ""), item.entry.kind, state, str(item.path))
    console.print(table)
    console.print("* used by the voice gateway (ACCUEIL_VOSK_MODEL, ACCUEIL_PIPER_VOICE)")
    return 0


def cmd_models_pull(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from voice_gateway.models import ModelError, load_manifest, pull

    settings = get_settings()
    names = args.names or [settings.vosk_model, settings.piper_voice]
    mirror = args.mirror or settings.models_mirror
    tasks: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=console) as bar:

        def progress(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done)

        try:
            manifest = load_manifest()
            for name in names:
                path = pull(name, settings.models_dir, manifest, mirror=mirror, sha256=args.sha256, progress=progress)
                bar.console.print(f"{name}: checked and installed in {path}")
        except ModelError as exc:
            bar.console.print(f"[bold red]{exc}[/]", highlight=False)
            return 1
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from sqlalchemy.exc import SQLAlchemyError

    from accueil.retention import EraseError, RetentionError, cutoff_for, parse_period, purge

    settings = get_settings()
    try:
        period = parse_period(args.older_than) if args.older_than else parse_period(f"{settings.retention_days}d")
    except RetentionError as exc:
        console.print(f"[bold red]{exc}[/]", highlight=False)
        return 1
    cutoff = cutoff_for(period)
    try:
        counts = purge(settings, cutoff, dry_run=args.dry_run)
    except SQLAlchemyError as exc:
        console.print(
            f"[bold red]Purge interrompue par une erreur de base de données (la base en cause n'a pas été modifiée) :[/] {exc}",
            highlight=False,
        )
        return 1
    except EraseError as exc:
        console.print(
            f"[bold red]Lignes effacées, mais leur place n'a pas pu être nettoyée :[/] {exc}. "
            "Relancez « accueil purge » : les données effacées restent lisibles dans le fichier jusque-là.",
            highlight=False,
        )
        return 1
    when = cutoff.astimezone(ZoneInfo(settings.timezone)).strftime("%d/%m/%Y à %H:%M")
    if args.dry_run:
        console.print(
            f"Simulation (rien n'a été effacé) : données antérieures au {when} ({period.days} jours) qui seraient effacées :",
            highlight=False,
        )
    else:
        console.print(f"Données antérieures au {when} ({period.days} jours) effacées :", highlight=False)
    if not counts:
        console.print("  aucune table à purger.")
    for count in counts:
        detail = f" ({count.detail})" if count.detail else ""
        console.print(f"  {count.table:<24} {count.rows} ligne{'s' if count.rows > 1 else ''}{detail}", highlight=False)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from analytics.indicators import indicators
    from analytics.projection import project
    from analytics.report import PeriodError, period_label, report_csv, report_html, report_period

    settings = get_settings()
    try:
        start, end = report_period(settings.now().date(), args.start, args.end)
    except PeriodError as exc:
        console.print(f"[bold red]{exc}[/]", highlight=False)
        return 1
    if (args.handling_minutes is not None and args.handling_minutes <= 0) or (args.etp_hours is not None and args.etp_hours <= 0):
        console.print("[bold red]--handling-minutes et --etp-hours doivent être des nombres positifs.[/]", highlight=False)
        return 1
    try:
        project(settings)
        result = indicators(settings, start, end, args.channel, handling_minutes=args.handling_minutes, etp_hours=args.etp_hours)
    except SQLAlchemyError as exc:
        console.print(f"[bold red]Rapport impossible : erreur de base de données :[/] {exc}", highlight=False)
        return 1
    text = report_csv(result) if args.format == "csv" else report_html(result, generated=settings.now())
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.write_text(text, encoding="utf-8-sig" if args.format == "csv" else "utf-8")
    except OSError as exc:
        console.print(f"[bold red]Impossible d'écrire le rapport dans {args.out} :[/] {exc.strerror}", highlight=False)
        return 1
    console.print(f"Rapport {period_label(result)} ({result.conversations} conversations) écrit dans {args.out}.", highlight=False)
    return 0


SOURCE_HELP = "folder of YAML/Markdown, folder of CSV, .xlsx file or http(s) URL (default: ACCUEIL_KB_SOURCE)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="accueil", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="sync the knowledge base, train if needed, start the servers")
    run.set_defaults(func=cmd_run)

    prepare = commands.add_parser("prepare", help="under systemd: sync the knowledge base, train if needed (no server started)")
    prepare.set_defaults(func=cmd_prepare)
    serve = commands.add_parser("serve", help="under systemd: run one server in the foreground (deploy/systemd/)")
    serve.add_argument("part", help="actions, rasa, web, studio, voice-0, voice-1, …")
    serve.set_defaults(func=cmd_serve)

    shell = commands.add_parser("shell", help="chat with the assistant in the terminal")
    shell.set_defaults(func=cmd_shell)

    train = commands.add_parser("train", help="train the Rasa model if its data or config changed")
    train.add_argument("--force", action="store_true", help="train even if the model is up to date")
    train.set_defaults(func=cmd_train)

    evaluation = commands.add_parser("eval", help="evaluate the NLU (held-out set, cross-validation) and the held-out conversations")
    evaluation.add_argument("--out", type=Path, default=Path("reports") / "eval", help="report folder (default reports/eval)")
    evaluation.add_argument("--folds", type=int, default=5, help="cross-validation folds; 0 to skip it (default 5)")
    evaluation.add_argument(
        "--no-conversations", dest="conversations", action="store_false",
        help="skip the held-out conversations (tests/conversations), which run the model with its action server",
    )  # fmt: skip
    evaluation.set_defaults(func=cmd_eval)

    deploy = commands.add_parser("deploy", help="validate, train (in full, if the data changed), evaluate, gate, then load into Rasa")
    deploy.add_argument("--force", action="store_true", help="deploy even if the gate refuses the model (recorded as forced)")
    deploy.set_defaults(func=cmd_deploy)

    rollback = commands.add_parser("rollback", help="put the previous model back into production")
    rollback.set_defaults(func=cmd_rollback)

    kb = commands.add_parser("kb", help="knowledge base")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True)
    kb_sync = kb_commands.add_parser("sync", help="validate the editors' sources and load them as a new version")
    kb_sync.add_argument("--source", help=SOURCE_HELP)
    kb_sync.add_argument("--dry-run", action="store_true", help="show what would change, write nothing")
    kb_sync.set_defaults(func=cmd_kb_sync)
    kb_history = kb_commands.add_parser("history", help="list the versions of the knowledge base")
    kb_history.add_argument("--limit", type=int, default=50)
    kb_history.set_defaults(func=cmd_kb_history)
    kb_rollback = kb_commands.add_parser("rollback", help="restore the content of an earlier version")
    kb_rollback.add_argument("version", type=int)
    kb_rollback.set_defaults(func=cmd_kb_rollback)
    kb_export = kb_commands.add_parser("export", help="write the sources as a spreadsheet (.xlsx file, or a folder of CSV)")
    kb_export.add_argument("target", type=Path)
    kb_export.add_argument("--source", help=SOURCE_HELP)
    kb_export.set_defaults(func=cmd_kb_export)
    kb_watch = kb_commands.add_parser("watch", help="sync again and again, recording each change as a version")
    kb_watch.add_argument("--source", help=SOURCE_HELP)
    kb_watch.add_argument("--interval", type=int, default=300, help="seconds between two syncs (default 300)")
    kb_watch.set_defaults(func=cmd_kb_watch)

    purge = commands.add_parser("purge", help="delete the conversations and their traces past the retention period (GDPR)")
    purge.add_argument("--older-than", help="retention period: 90d (days) or 12w (weeks); default: ACCUEIL_RETENTION_DAYS days")
    purge.add_argument("--dry-run", action="store_true", help="show what would be deleted, delete nothing")
    purge.set_defaults(func=cmd_purge)

    report = commands.add_parser("report", help="the activity report of a period (default: the last full month), CSV or HTML")
    report.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: first day of last month)")
    report.add_argument("--to", dest="end", help="day after the last one, YYYY-MM-DD (default: first day of this month)")
    report.add_argument("--channel", choices=["web", "voice"], help="one channel only (default: all)")
    report.add_argument("--format", choices=["csv", "html"], default="html", help="default html")
    report.add_argument("--out", type=Path, help="file to write (default: standard output)")
    report.add_argument("--handling-minutes", type=float, help="average handling time of a call (default: ACCUEIL_ANALYTICS_HANDLING_MINUTES)")
    report.add_argument("--etp-hours", type=float, help="yearly working hours of an ETP (default: ACCUEIL_ANALYTICS_ETP_HOURS)")
    report.set_defaults(func=cmd_report)

    users = commands.add_parser("users", help="accounts of the editors' studio")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    users_add = users_commands.add_parser("add", help="create an account (the first one is an admin)")
    users_add.add_argument("username")
    users_add.add_argument("--role", choices=["editor", "callback", "admin"], help="default: admin for the first account, editor after")
    users_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input (automation)")
    users_add.set_defaults(func=cmd_users_add)
    users_list = users_commands.add_parser("list", help="list the accounts")
    users_list.set_defaults(func=cmd_users_list)

    models = commands.add_parser("models", help="the voice gateway's French models (Vosk, Piper)")
    models_commands = models.add_subparsers(dest="models_command", required=True)
    models_pull = models_commands.add_parser("pull", help="download, check (SHA-256) and install models")
    models_pull.add_argument("names", nargs="*", help="models of voice_gateway/models.yml (default: the configured Vosk model and Piper voice)")
    models_pull.add_argument("--mirror", help="a folder or URL holding the same files, for a hospital without internet")
    models_pull.add_argument("--sha256", help="the checked SHA-256 of a model the manifest has none for")
    models_pull.set_defaults(func=cmd_models_pull)
    models_status = models_commands.add_parser("status", help="which models are installed")
    models_status.set_defaults(func=cmd_models_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else get_settings().log_level,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from core.logs import install_filter, set_content_logged

    set_content_logged(get_settings().log_content)
    install_filter()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
