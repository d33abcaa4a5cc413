"""The `accueil` command: train, run, shell and knowledge base sync."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from accueil.settings import Settings, get_settings

console = Console(soft_wrap=True)

# Set before anything imports Rasa, in this process and every child.
os.environ["RASA_TELEMETRY_ENABLED"] = "false"


COUNT_LABELS = {"places": "lieux", "wards": "services", "articles": "articles"}


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {COUNT_LABELS.get(what, what)}" for what, n in counts.items())


def _print_changes(changes) -> None:
    for line in changes.describe():
        console.print(f"  {line}", highlight=False)


def _sync_kb(settings: Settings, source: str | None, dry_run: bool = False) -> int:
    from rich.progress import Progress

    from kb_sync.errors import ContentInvalid
    from kb_sync.sources import open_source
    from kb_sync.sync import sync

    folder = source or settings.kb_source
    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("Écriture de la base de connaissances", total=None)  # total known once validated
            report = sync(
                open_source(folder, settings.http_cache_dir),
                settings.db_url,
                dry_run=dry_run,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
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
    from kb_sync.db import session_factory
    from kb_sync.schema import upgrade
    from kb_sync.versions import all_versions

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
    from kb_sync.sources import export_folder_to_spreadsheet, open_source

    settings = get_settings()
    try:
        content = open_source(args.source or settings.kb_source, settings.http_cache_dir).read()
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
    console.print(f"Rapports : {result.out_dir}")
    return 0 if result.meets_targets else 2


def _prepare(settings: Settings) -> Path | None:
    """Knowledge base and model, as `run` and `shell` need them; None on failure."""
    from accueil.training import train_if_needed

    if _sync_kb(settings, None) != 0:
        return None
    with console.status("Checking the Rasa model (training only if its data changed)…"):
        result = train_if_needed(settings)
    console.print(
        f"Model {'trained in %.0f s' % result.seconds if result.trained else 'up to date'}: {result.model.name}"
    )
    return result.model


def _interrupt(*_) -> None:
    """SIGTERM stops Accueil as cleanly as Ctrl-C does."""
    raise KeyboardInterrupt


def cmd_run(args: argparse.Namespace) -> int:
    from accueil.servers import StartupError, action_server, rasa_server, running, voice_gateway, voice_problem, web_server

    settings = get_settings()
    if not settings.rasa_api_token:  # the voice gateway uses Rasa's API; a fresh secret each run keeps it closed to others
        settings = settings.copy(update={"rasa_api_token": secrets.token_urlsafe(24)})
    started = time.perf_counter()
    model = _prepare(settings)
    if model is None:
        return 1
    no_voice = voice_problem(settings)
    if no_voice is not None:  # the widget then shows no call button
        settings = settings.copy(update={"voice_enabled": False})
    processes = [
        action_server(settings, settings.log_dir),
        rasa_server(settings, model, settings.log_dir),
        web_server(settings, settings.log_dir),
    ]
    if no_voice is None:
        processes += voice_gateway(settings, settings.log_dir)
    signal.signal(signal.SIGTERM, _interrupt)
    console.print(f"Starting the {', '.join(p.name for p in processes if not p.name[-1].isdigit())}…")
    try:
        with running(processes, settings.startup_timeout):
            base = f"http://{settings.host}:{settings.rasa_port}"
            console.print(f"\n[bold green]Accueil is running[/] (started in {time.perf_counter() - started:.1f} s)")
            console.print(f"  demo site        [bold]{settings.web_url}/[/]  (the chat widget, bottom right)")
            console.print(f"  widget script    {settings.web_url}/widget/accueil-widget.js")
            console.print(f"  REST webhook     {base}/webhooks/rest/webhook")
            console.print(f"  socket.io        {base}/socket.io")
            console.print(f"  action server    http://{settings.host}:{settings.actions_port}/webhook")
            if no_voice is None:
                ports = ", ".join(map(str, settings.sip_ports))
                console.print(f"  phone (SIP)      sip:accueil@{settings.sip_host}, ports {ports}  (peers allowed: {', '.join(settings.sip_allowed_peers) or 'all'})")
                console.print(f"  phone (browser)  {settings.voice_url}")
            else:
                console.print(f"  [yellow]voice gateway    not started: {no_voice}[/]", highlight=False)
            console.print(f"  logs             {settings.log_dir}")
            console.print("Press Ctrl-C to stop.")
            while True:
                for proc in processes:
                    if proc.process.poll() is not None:
                        console.print(f"[bold red]{proc.name} stopped (exit {proc.process.returncode}).[/]\n{proc.log_tail()}")
                        return 1
                time.sleep(0.5)
    except StartupError as exc:
        console.print(f"[bold red]Startup failed:[/] {exc}", highlight=False)
        return 1
    except KeyboardInterrupt:
        console.print("Stopped.")
        return 0


def cmd_shell(args: argparse.Namespace) -> int:
    from accueil.servers import StartupError, action_server, running

    settings = get_settings()
    model = _prepare(settings)
    if model is None:
        return 1
    command = [sys.executable, "-m", "rasa", "shell", "--model", str(model), "--endpoints", str(settings.bot_dir / "endpoints.yml")]
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


SOURCE_HELP = "folder of YAML/Markdown, folder of CSV, .xlsx file or http(s) URL (default: ACCUEIL_KB_SOURCE)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="accueil", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="sync the knowledge base, train if needed, start the servers")
    run.set_defaults(func=cmd_run)

    shell = commands.add_parser("shell", help="chat with the assistant in the terminal")
    shell.set_defaults(func=cmd_shell)

    train = commands.add_parser("train", help="train the Rasa model if its data or config changed")
    train.add_argument("--force", action="store_true", help="train even if the model is up to date")
    train.set_defaults(func=cmd_train)

    evaluation = commands.add_parser("eval", help="evaluate the NLU on the held-out set and in cross-validation")
    evaluation.add_argument("--out", type=Path, default=Path("reports") / "eval", help="report folder (default reports/eval)")
    evaluation.add_argument("--folds", type=int, default=5, help="cross-validation folds; 0 to skip it (default 5)")
    evaluation.set_defaults(func=cmd_eval)

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
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
