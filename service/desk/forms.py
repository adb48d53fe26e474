"""The desk's forms (Flask-WTF: every form carries a CSRF token). Labels are lazy gettext strings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional


class PasswordSignInForm(FlaskForm):
    username = StringField(
        _l("Nama pengguna"), validators=[DataRequired(_l("Isi nama pengguna Anda.")), Length(max=64)]
    )
    password = PasswordField(_l("Kata sandi"), validators=[DataRequired(_l("Isi kata sandi Anda.")), Length(max=256)])


class SignInForm(FlaskForm):
    """The bootstrap path: an environment token (DISPOSISI_ADMIN_TOKENS / DISPOSISI_VIEWER_TOKENS)."""

    token = PasswordField(_l("Token akses"), validators=[DataRequired(_l("Isi token akses Anda.")), Length(max=500)])
    name = StringField(_l("Nama Anda (dicatat pada setiap keputusan)"), validators=[Optional(), Length(max=100)])


class UploadForm(FlaskForm):
    file = FileField(_l("Ekspor SP4N-LAPOR! (.xlsx) atau CSV"))


class DecisionForm(FlaskForm):
    """One form for the four decisions; the submit button's ``action`` says which."""

    action = HiddenField()
    agency = StringField(_l("Instansi"), validators=[Optional(), Length(max=300)])
    destination = StringField(_l("Teruskan ke (instansi atau daerah lain)"), validators=[Optional(), Length(max=300)])
    destination_other = StringField(
        _l("atau tulis tujuan lain yang tidak ada di daftar"), validators=[Optional(), Length(max=300)]
    )
    duplicate_of = StringField(_l("Duplikat dari (Tracking ID)"), validators=[Optional(), Length(max=200)])


class EmptyForm(FlaskForm):
    """Undo and sign-out: nothing but the CSRF token."""
