"""The desk's forms (Flask-WTF: every form carries a CSRF token). Labels are lazy gettext strings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional


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


# -- the operator's pages (service/desk/operator.py) ---------------------------------------------------
class RegionChoiceForm(FlaskForm):
    name = StringField(
        _l("Nama wilayah (kabupaten atau kota)"),
        validators=[DataRequired(_l("Isi nama wilayah.")), Length(max=200)],
    )
    province = StringField(_l("Provinsi (bila nama wilayah belum cukup)"), validators=[Optional(), Length(max=100)])


class AgenciesForm(FlaskForm):
    source = RadioField(
        _l("Daftar instansi"),
        choices=[
            ("standard", _l("Perangkat daerah standar")),
            ("names", _l("Daftar nama instansi (teks UTF-8, satu nama per baris)")),
            ("export", _l("Ekspor LAPOR! (.xlsx atau .csv dengan kolom Instansi Terdisposisi)")),
        ],
        default="standard",
    )
    file = FileField(_l("Berkas"))


class NewAccountForm(FlaskForm):
    """An account, from the accounts page (any role) or the setup's last step (admin or viewer of one region)."""

    username = StringField(_l("Nama pengguna"), validators=[DataRequired(_l("Isi nama pengguna.")), Length(max=64)])
    password = PasswordField(_l("Kata sandi"), validators=[DataRequired(_l("Isi kata sandi.")), Length(max=256)])
    password2 = PasswordField(
        _l("Ulangi kata sandi"),
        validators=[DataRequired(_l("Ulangi kata sandi.")), EqualTo("password", _l("Kedua kata sandi tidak sama."))],
    )
    role = SelectField(
        _l("Peran"),
        choices=[
            ("admin", _l("admin")),
            ("viewer", _l("pemantau")),
            ("supervisor", _l("pengawas")),
            ("operator", _l("operator")),
        ],
        default="admin",
    )
    regions = StringField(_l("Wilayah (slug, pisahkan dengan koma)"), validators=[Optional(), Length(max=2000)])
    province = StringField(_l("Provinsi (untuk pengawas)"), validators=[Optional(), Length(max=100)])


class ConfirmForm(FlaskForm):
    """A one-click action that must say it means it (learn now, roll back, activate)."""

    confirm = HiddenField()

    def confirmed(self) -> bool:
        return self.validate() and self.confirm.data == "1"
