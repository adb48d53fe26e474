"""Monev pages and API (issue 17 part 5) through Flask's test client: scope per account, sorting, the period,
the .xlsx report read back with pandas, and the JSON API.

The scenario of ``monev_seed.py`` is moved to the test clock's week, so these tests hold on any day; the figures
that depend on the calendar (holidays) are checked in ``test_monev.py`` on fixed dates.
"""

from __future__ import annotations

import io
import re
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from monev_seed import PASSWORD, START, A, add_accounts, seed, shift_for

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "desk"))
from desk_helpers import ADMIN, ADMIN_AUTH, TODAY, csrf, sign_in, test_clock  # noqa: E402

SHIFT = shift_for(TODAY)
FROM = (START + timedelta(weeks=SHIFT)).isoformat()
PERIOD = f"from={FROM}&to={TODAY.isoformat()}"
SULSEL_NAMES = ["Kabupaten Gowa", "Kabupaten Luwu Timur", "Kota Makassar"]


@pytest.fixture(scope="module")
def app(demo_model, demo_model_dir, tmp_path_factory):
    from service import create_app
    from service.db import default_sqlite_url, upgrade

    var = tmp_path_factory.mktemp("monev") / "var"
    url = default_sqlite_url(var)
    upgrade(url)
    seed(url, SHIFT)
    app = create_app(
        {
            "MODEL": demo_model,
            "MODEL_DIR": str(demo_model_dir),
            "DATA_DIR": str(var),
            "ADMIN_TOKENS": ADMIN,
            "CLOCK": test_clock(),
        }
    )
    add_accounts(app.extensions["disposisi"].accounts)
    yield app
    app.extensions["disposisi"].close()


def _client(app, username: str | None = None):
    client = app.test_client()
    if username:
        page = client.get("/desk/masuk")
        resp = client.post(
            "/desk/masuk", data={"csrf_token": csrf(page.text), "username": username, "password": PASSWORD}
        )
        assert resp.status_code == 303, resp.text[:300]
    return client


def _region_names(html: str) -> list[str]:
    body = html.split('<table class="queue monev" id="regions">', 1)[1].split("<tbody>", 1)[1].split("</tbody>")[0]
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', body)


def test_anonymous_is_sent_to_sign_in_and_back(app):
    client = _client(app)
    for path in ("/monev", "/monev/kota-makassar", "/monev.xlsx"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/desk/masuk" in resp.location, path
    resp = client.get("/monev")
    page = client.get(resp.location)
    signed = client.post(
        resp.location, data={"csrf_token": csrf(page.text), "username": "sulsel", "password": PASSWORD}
    )
    assert signed.status_code == 303 and signed.location.endswith("/monev")


def test_a_province_supervisor_sees_its_regions_only(app):
    client = _client(app, "sulsel")
    page = client.get(f"/monev?{PERIOD}")
    assert page.status_code == 200
    assert _region_names(page.text) == SULSEL_NAMES  # full names from regions.name, sorted by name
    assert "Samarinda" not in page.text and "Sulawesi Selatan" in page.text
    assert 'id="kpi-received">7<' in page.text  # 5 + 2 + 0 received in the period
    assert "<svg" in page.text and "W" in page.text  # the weekly chart, server-rendered
    assert client.get(f"/monev/kabupaten-luwu-timur?{PERIOD}").status_code == 200
    assert client.get("/monev/kota-samarinda").status_code == 404  # another province's region
    assert client.get("/monev/kabupaten-sinjai").status_code == 404  # not in the deployment
    assert client.get("/monev?province=kalimantan-timur").status_code == 404
    assert client.get("/monev?province=").status_code == 404  # "every province" is not its to see
    assert client.get("/monev.xlsx?province=kalimantan-timur").status_code == 404


def test_the_other_province_supervisor_sees_only_samarinda(app):
    client = _client(app, "kaltim")
    page = client.get(f"/monev?{PERIOD}")
    assert _region_names(page.text) == ["Kota Samarinda"]
    assert client.get("/monev/kabupaten-luwu-timur").status_code == 404


def test_a_viewer_sees_the_regions_given_to_it(app):
    client = _client(app, "lihat.gowa")
    page = client.get(f"/monev?{PERIOD}")
    assert page.status_code == 200 and _region_names(page.text) == ["Kabupaten Gowa"]
    assert client.get("/monev/kabupaten-gowa").status_code == 200
    assert client.get("/monev/kota-makassar").status_code == 404
    assert 'id="monev-link"' in page.text


def test_operator_and_national_supervisor_pick_a_province(app):
    for username in ("operator", "nasional"):
        client = _client(app, username)
        page = client.get(f"/monev?{PERIOD}")
        assert _region_names(page.text) == [*SULSEL_NAMES, "Kota Samarinda"], username
        assert '<option value="sulawesi-selatan"' in page.text and '<option value="kalimantan-timur"' in page.text
        one = client.get(f"/monev?province=sulawesi-selatan&{PERIOD}")
        assert _region_names(one.text) == SULSEL_NAMES
        assert client.get("/monev/kota-samarinda").status_code == 200


def test_a_token_session_is_refused(app):
    client = app.test_client()
    sign_in(client, ADMIN)
    resp = client.get("/monev")
    assert resp.status_code == 403 and "Monev hanya untuk akun" in resp.text
    assert 'id="monev-link"' not in client.get("/desk/").text


def test_every_column_sorts_server_side(app):
    client = _client(app, "sulsel")
    by = {
        "sort=received&dir=desc": ["Kabupaten Luwu Timur", "Kota Makassar", "Kabupaten Gowa"],
        "sort=received&dir=asc": ["Kabupaten Gowa", "Kota Makassar", "Kabupaten Luwu Timur"],
        "sort=forwards_in&dir=desc": ["Kabupaten Gowa", "Kota Makassar", "Kabupaten Luwu Timur"],
        "sort=top1_rate&dir=desc": ["Kota Makassar", "Kabupaten Luwu Timur", "Kabupaten Gowa"],  # none last
        "sort=name&dir=desc": ["Kota Makassar", "Kabupaten Luwu Timur", "Kabupaten Gowa"],
    }
    for args, names in by.items():
        page = client.get(f"/monev?{PERIOD}&{args}")
        assert _region_names(page.text) == names, args
        assert 'aria-sort="' in page.text
    page = client.get(f"/monev?{PERIOD}&sort=received&dir=desc")
    # the active column's link turns the order round; the period and province are kept in every link
    assert f"sort=received&amp;dir=asc&amp;from={FROM}" in page.text or "sort=received&amp;dir=asc" in page.text
    assert all(f"from={FROM}" in link for link in re.findall(r'href="(/monev\?sort=[^"]+)"', page.text))


def test_a_bad_period_is_said_on_the_page(app):
    client = _client(app, "sulsel")
    page = client.get("/monev?from=2026-99-01")
    assert page.status_code == 200 and "Periode tidak sah" in page.text
    assert _region_names(page.text) == SULSEL_NAMES


def test_the_region_page_shows_weeks_and_corrections_with_full_names(app):
    client = _client(app, "sulsel")
    page = client.get(f"/monev/kabupaten-luwu-timur?{PERIOD}")
    assert "<h1>Kabupaten Luwu Timur</h1>" in page.text
    weeks = re.findall(r'<th scope="row" class="nowrap">(\d{4}-W\d\d)', page.text)
    assert len(weeks) >= 3 and weeks == sorted(weeks)
    corrections = page.text.split('id="corrections"', 1)[1]
    assert A in corrections  # the full agency name, never cut
    assert re.search(re.escape(A) + r"</th><td class=\"num\">2</td><td class=\"num\">0</td>", corrections)


def test_english_from_the_catalogue(app):
    client = _client(app, "sulsel")
    client.get("/desk/bahasa/en?next=/monev")
    page = client.get(f"/monev?{PERIOD}")
    assert "Received" in page.text and "Per region" in page.text and "Pengaduan masuk</a>" not in page.text


def test_the_xlsx_report_reads_back(app):
    client = _client(app, "sulsel")
    resp = client.get(f"/monev.xlsx?province=sulawesi-selatan&{PERIOD}")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert "monev-sulawesi-selatan-" in resp.headers["Content-Disposition"]
    book = pd.read_excel(io.BytesIO(resp.data), sheet_name=None, header=None)
    assert list(book) == ["Ringkasan", "Mingguan", "Koreksi"]
    title = book["Ringkasan"][0].tolist()[:4]
    assert title[0].startswith("Monitoring dan Evaluasi SP4N-LAPOR!") and title[1] == "Provinsi: Sulawesi Selatan"
    summary = pd.read_excel(io.BytesIO(resp.data), sheet_name="Ringkasan", header=5)
    assert list(summary.columns[:4]) == ["Wilayah", "Kode wilayah", "Pengaduan masuk", "Masih terbuka"]
    assert "Median hari kerja sampai diputuskan" in summary.columns and "Masih menunggu di LAPOR!" in summary.columns
    assert summary["Wilayah"].tolist() == [*SULSEL_NAMES, "Jumlah provinsi"]
    assert summary["Pengaduan masuk"].tolist() == [0, 5, 2, 7]
    assert summary["Saran pertama diterima"].tolist()[1:3] == [0.25, 1.0]
    weekly = pd.read_excel(io.BytesIO(resp.data), sheet_name="Mingguan")
    assert list(weekly.columns[:4]) == ["Wilayah", "Minggu", "Senin", "Pengaduan masuk"]
    weeks = weekly["Minggu"].nunique()
    assert len(weekly) == 4 * weeks and weekly.groupby("Wilayah")["Pengaduan masuk"].sum().to_dict() == {
        "Jumlah provinsi": 7,
        "Kabupaten Gowa": 0,
        "Kabupaten Luwu Timur": 5,
        "Kota Makassar": 2,
    }
    corrections = pd.read_excel(io.BytesIO(resp.data), sheet_name="Koreksi")
    assert list(corrections.columns) == [
        "Wilayah",
        "Instansi",
        "Dikoreksi dari saran pertama",
        "Dikoreksi menjadi instansi ini",
    ]
    assert corrections.iloc[0].tolist() == ["Kabupaten Luwu Timur", A, 2, 0] and len(corrections) == 3


def test_the_json_api_is_scoped_by_the_account_token(app):
    accounts = app.extensions["disposisi"].accounts
    client = app.test_client()
    _, sulsel = accounts.issue_token("sulsel")
    _, gowa = accounts.issue_token("lihat.gowa")
    auth = {"Authorization": f"Bearer {sulsel}"}
    body = client.get(f"/v1/monev?{PERIOD}", headers=auth).get_json()
    assert body["province"] == "sulawesi-selatan" and body["province_name"] == "Sulawesi Selatan"
    assert [r["name"] for r in body["regions"]] == SULSEL_NAMES and body["total"]["received"] == 7
    assert body["period"] == {"from": FROM, "to": TODAY.isoformat()} and body["weeks"][0]["iso"].count("-W") == 1
    assert client.get("/v1/monev?province=kalimantan-timur", headers=auth).status_code == 404
    assert client.get("/v1/monev?from=2026-02-30", headers=auth).status_code == 422
    assert client.get("/v1/monev").status_code == 401
    assert client.get("/v1/monev", headers=ADMIN_AUTH).status_code == 403  # an environment token has no scope
    viewer = client.get("/v1/monev", headers={"Authorization": f"Bearer {gowa}"}).get_json()
    assert [r["slug"] for r in viewer["regions"]] == ["kabupaten-gowa"]
    xlsx = client.get(f"/v1/monev.xlsx?{PERIOD}", headers=auth)
    assert xlsx.status_code == 200 and pd.read_excel(io.BytesIO(xlsx.data), sheet_name=None).keys() == {
        "Ringkasan",
        "Mingguan",
        "Koreksi",
    }
