"""The desk's "today" is the app's injected clock, not the machine's date."""

from __future__ import annotations

from datetime import timedelta

from desk_helpers import ADMIN_AUTH, TODAY

from service import sla
from service.clock import Clock


def test_the_app_reads_the_test_clock(desk_app):
    assert desk_app.extensions["disposisi"].clock.today() == TODAY


def test_overdue_follows_the_clock_to_the_day(client):
    # the earliest day whose verification deadline is still today or later is not overdue; the day before it is
    on_time = TODAY
    while sla.due_dates(on_time - timedelta(days=1))[0] >= TODAY:
        on_time -= timedelta(days=1)
    late = on_time - timedelta(days=1)
    items = [
        {
            "id": "ON-TIME",
            "text": "Jalan rusak parah di desa Jelekong mohon diperbaiki",
            "received": on_time.isoformat(),
        },
        {"id": "LATE", "text": "Sampah menumpuk di pasar Soreang tidak diangkut", "received": late.isoformat()},
    ]
    assert client.post("/v1/complaints", json=items, headers=ADMIN_AUTH).status_code == 201
    overdue = client.get("/v1/queue?overdue=true", headers=ADMIN_AUTH).json
    assert [i["id"] for i in overdue["items"]] == ["LATE"]
    assert overdue["items"][0]["working_days_open"] == sla.working_days_between(late, TODAY) >= sla.VERIFY_DAYS
    assert overdue["items"][0]["due"] < TODAY.isoformat() <= sla.due_dates(on_time)[0].isoformat()


def test_clock_starting_at_runs_on_from_the_moment():
    clock = Clock.starting_at("2030-02-05T23:59:00+07:00")
    assert clock.today().isoformat() == "2030-02-05"
    later = Clock(clock.offset + timedelta(minutes=2))  # two minutes on: the next day in WIB
    assert later.today().isoformat() == "2030-02-06"
    assert Clock.starting_at("2030-02-05T09:00:00").now().utcoffset() == timedelta(0)  # naive means WIB, read as UTC
