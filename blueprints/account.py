"""MON COMPTE: the family's details and the password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from blueprints.guards import current_family, family_required
from extensions import db
from models import utcnow
from services import accounts

bp = Blueprint("account", __name__)


class PasswordForm(FlaskForm):
    current = PasswordField("Mot de passe actuel", validators=[DataRequired(), Length(max=256)])
    new = PasswordField("Nouveau mot de passe", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField("Confirmez le nouveau mot de passe", validators=[DataRequired()])


@bp.get("/compte")
@family_required
def index():
    return render_template("account/index.html", family=current_family(), form=PasswordForm())


@bp.post("/compte/mot-de-passe")
@family_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        if form.new.data != form.confirm.data:
            flash("Les deux nouveaux mots de passe ne sont pas identiques.", "error")
        else:
            try:
                accounts.change_password(current_user, form.current.data, form.new.data, utcnow())
            except accounts.PasswordRejected as error:
                db.session.rollback()
                flash(str(error), "error")
            else:
                db.session.commit()
                flash(
                    "Mot de passe modifié. Vos autres appareils ont été déconnectés.", "success"
                )
                return redirect(url_for("account.index"))
    return render_template("account/index.html", family=current_family(), form=form), 400
