"""Command-line tasks: flask seed-demo | create-staff | demo-logins | ...

One small function per command; each is thin and calls services/. A refused command prints
a French message and exits with code 1 (click.ClickException).
"""

from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

import demo
from models import StaffRole, utcnow
from services import accounts, jobs


def register(app: Flask) -> None:
    """Attach every command and command group to the app."""
    for command in (seed_demo, create_staff, demo_logins):
        app.cli.add_command(command)
    app.cli.add_command(jobs_cli)


def _refuse_in_production(what: str) -> None:
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException(
            f"{what} est refusé en production (APP_ENV=production) : "
            "les données de démonstration ne doivent jamais côtoyer de vraies familles."
        )


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Ne rien faire si une famille existe déjà.")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Charge les données de démonstration (inventées) ; jamais en production."""
    _refuse_in_production("seed-demo")
    if if_empty and demo.has_families():
        click.echo("Des familles existent déjà : données de démonstration non chargées.")
        return
    loaded = demo.load_demo_data(date.today())
    click.echo(
        f"Données de démonstration chargées : {len(loaded.families)} familles, "
        f"{len(loaded.children)} enfants, {len(loaded.schools)} écoles."
    )


@click.command("create-staff")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice([role.value for role in StaffRole]),
    required=True,
    help="admin : tous les droits ; agent : saisie courante.",
)
@click.option("--email", required=True, help="Adresse email professionnelle de l'agent.")
@click.option("--full-name", default="", help="Prénom et nom affichés dans la gestion.")
@with_appcontext
def create_staff(username: str, role: str, email: str, full_name: str) -> None:
    """Crée un compte agent ; le mot de passe est demandé deux fois, sans écho."""
    username = accounts.normalize_username(username)
    if accounts.find_account(username) is not None:
        raise click.ClickException(f"L'identifiant « {username} » est déjà utilisé.")
    # Prompted, never an option: a password on the command line ends up in shell history.
    password = click.prompt(
        "Mot de passe", hide_input=True, confirmation_prompt="Confirmez le mot de passe"
    )
    try:
        accounts.create_staff_user(username, password, StaffRole(role), email, full_name, utcnow())
    except accounts.PasswordRejected as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Agent « {username} » créé avec le rôle {role}.")


@click.command("demo-logins")
@with_appcontext
def demo_logins() -> None:
    """Affiche les identifiants de démonstration (make run)."""
    _refuse_in_production("demo-logins")
    base_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    click.echo(f"\nPortail Famille : {base_url}/login  ·  gestion : {base_url}/admin/")
    click.echo("Comptes de démonstration (données inventées) :")
    width = max(len(login.username) for login in demo.DEMO_LOGINS)
    for login in demo.DEMO_LOGINS:
        click.echo(f"  {login.username:<{width}}  {login.password}  {login.who}")
    click.echo("")


@click.group("jobs")
def jobs_cli() -> None:
    """Tâches périodiques (cron, minuteur systemd)."""


@jobs_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Dire ce qui serait fait, sans rien faire.")
@with_appcontext
def run_jobs(dry_run: bool) -> None:
    """Lance chaque tâche une fois (--dry-run : dire sans faire)."""
    outcomes = jobs.run_all(utcnow(), dry_run=dry_run)
    for outcome in outcomes:
        click.echo(f"{outcome.name}: {outcome.summary}")
    if not all(outcome.ok for outcome in outcomes):
        raise click.ClickException("au moins une tâche a échoué (voir le journal).")
