"""Every route × every role × own/other region: the expected status, from a table (issue 17 part 3).

``ROUTES`` names each rule of ``app.url_map`` with the scope it must declare (``service/scope.py``); the test fails
when the app serves a route missing from the table, a route without ``@scoped``, or one whose declared rule differs.
``EXPECTED`` says, per kind of route and rule, what each role gets for a complaint (and region) of its own and of
another region; every cell is then requested on a real two-region deployment (Kabupaten Bandung = "own", Kota
Samarinda = "other"). Statuses are compared by class: ``ok`` (past the scope check: 2xx, 3xx, 409, 422), 401, 403,
404 and, in the desk, ``signin`` (a redirect to the sign-in page) and 403 for a refused write (the desk's message).
"""

from __future__ import annotations

import pytest
from region_helpers import BANDUNG, PASSWORD, SAMARINDA, auth, items

FRAMEWORK = {"static", "desk.static"}  # Flask's own static file routes: no view of ours, nothing but files
ROUTES = {
    ("/", "GET"): "public",
    ("/desk/", "GET"): "read",
    ("/desk/audit.xlsx", "GET"): "supervise",
    ("/desk/bahasa/<lang>", "GET"): "public",
    ("/desk/diteruskan", "GET"): "read",
    ("/desk/ekspor", "GET"): "read",
    ("/desk/impor", "POST"): "decide",
    ("/desk/keluar", "POST"): "signed_in",
    ("/desk/masuk", "GET"): "public",
    ("/desk/masuk", "POST"): "public",
    ("/desk/operator/", "GET"): "supervise",
    ("/desk/operator/akun", "GET"): "operate",
    ("/desk/operator/akun", "POST"): "operate",
    ("/desk/operator/akun/<username>/nonaktifkan", "POST"): "operate",
    ("/desk/operator/akun/<username>/token", "POST"): "operate",
    ("/desk/operator/token/<int:token_id>/cabut", "POST"): "operate",
    ("/desk/operator/wilayah/<slug>/hapus", "GET"): "operate",
    ("/desk/operator/wilayah/<slug>/hapus", "POST"): "operate",
    ("/desk/operator/wilayah/<slug>/pulihkan", "POST"): "operate",
    ("/desk/operator/wilayah/<slug>/admin", "GET"): "operate",
    ("/desk/operator/wilayah/<slug>/admin", "POST"): "operate",
    ("/desk/operator/wilayah/<slug>/aktifkan", "POST"): "operate",
    ("/desk/operator/wilayah/<slug>/instansi", "GET"): "operate",
    ("/desk/operator/wilayah/<slug>/instansi", "POST"): "operate",
    ("/desk/operator/wilayah/<slug>/kembalikan", "GET"): "operate",
    ("/desk/operator/wilayah/<slug>/kembalikan", "POST"): "operate",
    ("/desk/operator/wilayah/<slug>/latih", "POST"): "operate",
    ("/desk/operator/wilayah/<slug>/status", "GET"): "operate",
    ("/desk/operator/wilayah/<slug>/tinjau", "GET"): "operate",
    ("/desk/operator/wilayah/<slug>/tinjau", "POST"): "operate",
    ("/desk/operator/wilayah/baru", "GET"): "operate",
    ("/desk/operator/wilayah/baru", "POST"): "operate",
    ("/desk/pengaduan/<complaint_id>", "GET"): "read",
    ("/desk/pengaduan/<complaint_id>/batal", "POST"): "decide",
    ("/desk/pengaduan/<complaint_id>/keputusan", "POST"): "decide",
    ("/desk/ringkasan", "GET"): "read",
    ("/desk/wilayah/<region>/", "GET"): "read",
    ("/desk/wilayah/<region>/diteruskan", "GET"): "read",
    ("/desk/wilayah/<region>/ekspor", "GET"): "read",
    ("/desk/wilayah/<region>/impor", "POST"): "decide",
    ("/desk/wilayah/<region>/pengaduan/<complaint_id>", "GET"): "read",
    ("/desk/wilayah/<region>/pengaduan/<complaint_id>/batal", "POST"): "decide",
    ("/desk/wilayah/<region>/pengaduan/<complaint_id>/keputusan", "POST"): "decide",
    ("/desk/wilayah/<region>/ringkasan", "GET"): "read",
    ("/healthz", "GET"): "public",
    ("/monev", "GET"): "signed_in",
    ("/monev.xlsx", "GET"): "signed_in",
    ("/monev/<region_slug>", "GET"): "signed_in",
    ("/invocations", "POST"): "public",
    ("/openapi.json", "GET"): "public",
    ("/ping", "GET"): "public",
    ("/readyz", "GET"): "public",
    ("/v1/agencies", "GET"): "public",
    ("/v1/audit", "GET"): "supervise",
    ("/v1/audit.xlsx", "GET"): "supervise",
    ("/v1/complaints", "POST"): "decide",
    ("/v1/complaints/<complaint_id>", "GET"): "read",
    ("/v1/complaints/<complaint_id>/decision", "POST"): "decide",
    ("/v1/complaints/<complaint_id>/undo", "POST"): "decide",
    ("/v1/complaints/import", "POST"): "decide",
    ("/v1/decisions/today.xlsx", "GET"): "read",
    ("/v1/feedback", "POST"): "decide",
    ("/v1/forwards", "GET"): "read",
    ("/v1/model", "GET"): "public",
    ("/v1/monev", "GET"): "signed_in",
    ("/v1/monev.xlsx", "GET"): "signed_in",
    ("/v1/queue", "GET"): "read",
    ("/v1/regions", "GET"): "signed_in",
    ("/v1/regions/<region>/complaints", "POST"): "decide",
    ("/v1/regions/<region>/complaints/<complaint_id>", "GET"): "read",
    ("/v1/regions/<region>/complaints/<complaint_id>/decision", "POST"): "decide",
    ("/v1/regions/<region>/complaints/<complaint_id>/undo", "POST"): "decide",
    ("/v1/regions/<region>/complaints/import", "POST"): "decide",
    ("/v1/regions/<region>/decisions/today.xlsx", "GET"): "read",
    ("/v1/regions/<region>/forwards", "GET"): "read",
    ("/v1/regions/<region>/queue", "GET"): "read",
    ("/v1/regions/<region>/suggest", "POST"): "public",
    ("/v1/stats", "GET"): "public",
    ("/v1/suggest", "POST"): "public",
    ("/v1/suggest/batch", "POST"): "public",
}
ROLES = ("operator", "supervisor_own", "supervisor_other", "admin_own", "admin_other", "viewer", "anonymous")
ACCOUNTS = {
    "operator": "opa",
    "supervisor_own": "sup-jabar",
    "supervisor_other": "sup-kaltim",
    "admin_own": "adm-bandung",
    "admin_other": "adm-samarinda",
    "viewer": "view-bandung",
    "anonymous": None,
}
OK, SIGNIN = "ok", "signin"


def _row(*cells):
    """One role per pair (own, other), in the order of ROLES."""
    return dict(zip(ROLES, cells, strict=True))


ALL_OK = _row(*[(OK, OK)] * 7)
# where: "api_region" (slug in the URL), "api_default" (no slug: two regions served, so none is meant), "api" (no
# region), "desk_complaint" (the desk's default region = the caller's only one; a complaint of own/other region),
# "desk_region" (the desk's default region, no complaint), "desk_home" (``/desk/``: the default region's queue, or
# the region picker for a caller who sees several), "desk_url" (``/desk/wilayah/<slug>/...``: the region, and the
# complaint of own/other region, named in the URL), "desk" (no region)
EXPECTED = {
    ("api_region", "public"): ALL_OK,
    ("api_region", "read"): _row((OK, OK), (OK, 404), (404, OK), (OK, 404), (404, OK), (OK, 404), (401, 401)),
    ("api_region", "decide"): _row((OK, OK), (403, 404), (404, 403), (OK, 404), (404, OK), (403, 404), (401, 401)),
    ("api_default", "public"): _row(*[(404, 404)] * 7),
    ("api_default", "read"): _row(*[(404, 404)] * 6, (401, 401)),
    ("api_default", "decide"): _row(*[(404, 404)] * 6, (401, 401)),
    ("api", "public"): ALL_OK,
    ("api", "signed_in"): _row(*[(OK, OK)] * 6, (401, 401)),
    ("api", "supervise"): _row((OK, OK), (OK, OK), (OK, OK), (403, 403), (403, 403), (403, 403), (401, 401)),
    ("desk_complaint", "read"): _row(
        (404, 404), (OK, 404), (404, OK), (OK, 404), (404, OK), (OK, 404), (SIGNIN, SIGNIN)
    ),
    ("desk_complaint", "decide"): _row(
        (404, 404), (403, 403), (403, 403), (OK, 404), (404, OK), (403, 403), (SIGNIN, SIGNIN)
    ),
    ("desk_region", "read"): _row((404, 404), *[(OK, OK)] * 5, (SIGNIN, SIGNIN)),
    ("desk_region", "decide"): _row(
        (404, 404), (403, 403), (403, 403), (OK, OK), (OK, OK), (403, 403), (SIGNIN, SIGNIN)
    ),
    ("desk_monev_region", "signed_in"): _row(
        (OK, OK), (OK, 404), (404, OK), (OK, 404), (404, OK), (OK, 404), (SIGNIN, SIGNIN)
    ),
    ("desk_home", "read"): _row((OK, OK), *[(OK, OK)] * 5, (SIGNIN, SIGNIN)),
    ("desk_url", "read"): _row((OK, OK), (OK, 404), (404, OK), (OK, 404), (404, OK), (OK, 404), (SIGNIN, SIGNIN)),
    ("desk_url", "decide"): _row((OK, OK), (403, 404), (404, 403), (OK, 404), (404, OK), (403, 404), (SIGNIN, SIGNIN)),
    ("desk", "public"): ALL_OK,
    ("desk", "signed_in"): _row(*[(OK, OK)] * 6, (SIGNIN, SIGNIN)),
    ("desk", "supervise"): _row((OK, OK), (OK, OK), (OK, OK), (404, 404), (404, 404), (404, 404), (SIGNIN, SIGNIN)),
    ("desk", "operate"): _row((OK, OK), *[(404, 404)] * 5, (SIGNIN, SIGNIN)),
}


def _where(rule: str, region_route: bool) -> str:
    if rule.startswith("/monev/"):
        return "desk_monev_region"  # Monev's region page: the region's name in the URL, the account's regions within
    if rule.startswith(("/desk", "/monev")) or rule == "/":
        if not region_route:
            return "desk"
        if "<region>" in rule:
            return "desk_url"
        if rule == "/desk/":
            return "desk_home"
        return "desk_complaint" if "<complaint_id>" in rule else "desk_region"
    if "<region>" in rule:
        return "api_region"
    return "api_default" if region_route else "api"


def _served_rules(app) -> dict[tuple[str, str], object]:
    out = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FRAMEWORK:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out[(rule.rule, method)] = app.view_functions[rule.endpoint]
    return out


def test_every_route_has_a_rule_and_is_in_the_table(deployment_app):
    served = _served_rules(deployment_app)
    missing_rule = sorted(k for k, view in served.items() if getattr(view, "scope", None) is None)
    assert not missing_rule, f"routes without @scoped: {missing_rule}"
    assert sorted(set(served) - set(ROUTES)) == [], "routes missing from ROUTES"
    assert sorted(set(ROUTES) - set(served)) == [], "ROUTES names routes the app does not serve"
    wrong = {k: (served[k].scope.need, need) for k, need in ROUTES.items() if served[k].scope.need != need}
    assert not wrong, f"declared rule differs from the table: {wrong}"


def test_a_route_without_a_rule_fails_the_table(deployment_app):
    """The check above is not vacuous: a view added without @scoped is found."""
    from flask import Flask

    app = Flask("probe")
    app.add_url_rule("/v1/new", "new", lambda: "x")
    served = _served_rules(app)
    assert [k for k, v in served.items() if getattr(v, "scope", None) is None] == [("/v1/new", "GET")]


def _classify(client, resp, desk: bool):
    if resp.status_code in (401, 403, 404) or resp.status_code >= 500:
        return resp.status_code
    if desk and resp.status_code in (302, 303):
        target = resp.headers.get("Location", "")
        if "/desk/masuk?next=" in target:  # signing out also ends on /desk/masuk, without a next page
            return SIGNIN
        page = client.get(target)  # the message of a refused write is on the page redirected to
        if "hanya untuk melihat" in page.text:
            return 403
    return OK


def _request(client, rule: str, method: str, region: str, complaint: str, headers: dict):
    path = (
        rule.replace("<region>", region)
        .replace("<region_slug>", region)
        .replace("<complaint_id>", complaint)
        .replace("<lang>", "id")
        .replace("<slug>", region)
        .replace("<username>", "nobody-here")  # an unknown account: a real one would be deactivated mid-table
        .replace("<path:filename>", "desk.css")
        .replace("<int:token_id>", "999999")  # no such token: a real one would be revoked mid-table
    )
    if method == "GET":
        return client.get(path, headers=headers)
    if rule.endswith("/keputusan"):
        return client.post(path, data={"action": "accepted"}, headers=headers)
    if rule.startswith("/desk") or rule.endswith("/import"):
        return client.post(path, data={}, headers=headers)
    if rule.endswith("/complaints"):
        return client.post(path, json=items(BANDUNG, 1, f"N{abs(hash((region, str(headers))))}"), headers=headers)
    body = {"text": "jalan rusak parah di desa kami mohon segera diperbaiki", "action": "accepted"}
    if rule.endswith("/feedback"):
        body.update(complaint_id="F-1", suggested=[], chosen_agency="x", admin="a", model_version="v")
    if rule.endswith("/invocations"):
        body = {"instances": ["jalan rusak parah di desa kami"]}
    return client.post(path, json=body, headers=headers)


def _signed_in_client(app, account: str | None):
    client = app.test_client()
    if account is not None:
        r = client.post("/desk/masuk", data={"username": account, "password": PASSWORD})
        assert r.status_code == 303, r.text[:300]
    return client


def test_route_role_region_table(deployment_app, deployment):
    _, tokens = deployment
    deployment_app.config["WTF_CSRF_ENABLED"] = False  # the forms' CSRF is tested in tests/desk; here: scope only
    setup = deployment_app.test_client()
    for slug, n in ((BANDUNG, 3), (SAMARINDA, 3)):
        assert (
            setup.post(f"/v1/regions/{slug}/complaints", json=items(slug, n), headers=auth(tokens["opa"])).status_code
            == 201
        )
    views = _served_rules(deployment_app)
    cells, mismatches = {"allowed": 0, "denied": 0}, []
    for role in ROLES:
        account = ACCOUNTS[role]
        headers = auth(tokens[account]) if account else {}
        desk_client = _signed_in_client(deployment_app, account)
        api_client = deployment_app.test_client()
        # sign-out last: it ends the desk session the other desk cells use
        for (rule, method), need in sorted(ROUTES.items(), key=lambda kv: kv[0][0] == "/desk/keluar"):
            region_route = views[(rule, method)].scope.region
            where = _where(rule, region_route)
            desk = where.startswith("desk")
            for side, (region, complaint) in enumerate(((BANDUNG, "B-0"), (SAMARINDA, "S-0"))):
                if rule == "/desk/keluar" and account is not None:
                    desk_client = _signed_in_client(deployment_app, account)  # each sign-out cell signs out anew
                expected = EXPECTED[(where, need)][role][side]
                client = desk_client if desk else api_client
                resp = _request(client, rule, method, region, complaint, {} if desk else headers)
                got = _classify(client, resp, desk)
                cells["allowed" if got == OK else "denied"] += 1
                if got != expected:
                    mismatches.append(f"{method} {rule} {role} {'own' if side == 0 else 'other'}: {got} != {expected}")
    print(
        f"\nscope table: {len(ROUTES)} routes x {len(ROLES)} roles x 2 regions = {sum(cells.values())} cells, "
        f"{cells['allowed']} allowed, {cells['denied']} denied"
    )
    assert not mismatches, "\n".join(mismatches)
    assert cells["allowed"] > 0 and cells["denied"] > 0


@pytest.mark.parametrize("who", ["opa", "adm-bandung"])
def test_another_regions_complaint_through_ones_own_region_is_not_found(deployment_app, deployment, who):
    _, tokens = deployment
    c = deployment_app.test_client()
    c.post(f"/v1/regions/{SAMARINDA}/complaints", json=items(SAMARINDA, 1), headers=auth(tokens["opa"]))
    h = auth(tokens[who])
    base = f"/v1/regions/{BANDUNG}/complaints/S-0"
    for resp in (
        c.get(base, headers=h),
        c.post(f"{base}/decision", json={"action": "accepted"}, headers=h),
        c.post(f"{base}/undo", headers=h),
        c.post(f"{base}/decision", json={"action": "not_our_authority", "destination": SAMARINDA}, headers=h),
    ):
        assert resp.status_code == 404 and resp.json["error"]["code"] == "not_found"
    assert c.get(f"/v1/regions/{BANDUNG}/queue?q=S-0", headers=h).json["total"] == 0  # nor found by search
    item = c.get(f"/v1/regions/{SAMARINDA}/complaints/S-0", headers=auth(tokens["opa"])).json
    assert item["status"] == "open"  # nothing changed
