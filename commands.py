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
from services import accounts, billing, jobs, tax_certificates
from services.formatting import money, plural


def register(app: Flask) -> None:
    """Attach every command and command group to the app."""
    for command in (seed_demo, create_staff, demo_logins):
        app.cli.add_command(command)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(billing_cli)


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


@click.group("billing")
def billing_cli() -> None:
    """Facturation mensuelle : aperçu, puis émission des factures."""


def _month(value: str) -> date:
    """The first day of the month written YYYY-MM (ClickException in French otherwise)."""
    try:
        return billing.parse_month(value)
    except billing.BillingError as error:
        raise click.ClickException(error.message) from None


MONTH_OPTION = click.option("--month", required=True, help="Le mois facturé, AAAA-MM.")


@billing_cli.command("preview")
@MONTH_OPTION
@with_appcontext
def billing_preview(month: str) -> None:
    """Dit ce que la facturation du mois émettrait, famille par famille, sans rien écrire."""
    preview = billing.preview_month(_month(month), utcnow())
    for warning in preview.warnings:
        click.echo(f"Attention : {warning}")
    for bill in preview.bills:
        click.echo(f"{bill.family_name} : {_bill_state(bill)}")
        for warning in bill.warnings:
            click.echo(f"  ! {warning}")
    click.echo(
        f"{plural(len(preview.to_issue), 'facture à émettre', 'factures à émettre')}, "
        f"{money(preview.total_cents)} en tout."
    )


def _bill_state(bill: billing.FamilyBill) -> str:
    if bill.invoiced_number:
        return f"déjà facturée (n° {bill.invoiced_number})"
    if bill.held_back:
        return "non facturée (tarif manquant)"
    if not bill.lines:
        return "rien à facturer"
    return f"{plural(len(bill.lines), 'ligne', 'lignes')}, {money(bill.total_cents)}"


@billing_cli.command("run")
@MONTH_OPTION
@with_appcontext
def billing_run(month: str) -> None:
    """Émet les factures du mois (une transaction par famille) ; relancer ne change rien."""
    first_day = _month(month)
    with click.progressbar(length=0, label="Facturation") as bar:

        def advance(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        try:
            report = billing.run_billing(first_day, utcnow(), progress=advance)
        except billing.BillingError as error:
            raise click.ClickException(error.message) from None
    click.echo(report.summary())


@billing_cli.command("tax-certificates")
@click.option("--year", required=True, help="L'année civile des paiements, AAAA.")
@with_appcontext
def billing_tax_certificates(year: str) -> None:
    """Émet (ou met à jour) les attestations fiscales de l'année, une par famille."""
    try:
        report = tax_certificates.issue_year(year, None, utcnow())
    except tax_certificates.TaxCertificateError as error:
        raise click.ClickException(str(error)) from None
    click.echo(report.summary())
