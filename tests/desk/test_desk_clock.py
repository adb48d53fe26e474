"""The desk's "today" is the app's injected clock, not the machine's date."""
from __future__ import annotations

from datetime import timedelta

from desk_helpers import ADMIN_AUTH, TODAY, working_days_before

from service import sla
from service.clock import Clock


def test_the_app_reads_the_test_clock(desk_app):
    assert desk_app.extensions["disposisi"].clock.today() == TODAY


def test_overdue_follows_the_clock_to_the_day(client):
    # received exactly VERIFY_DAYS working days ago: due today, not yet overdue; one more working day: overdue
    due_today = working_days_before(TODAY, sla.VERIFY_DAYS)
    late = working_days_before(TODAY, sla.VERIFY_DAYS + 1)
    items = [{"id": "DUE", "text": "Jalan rusak parah di desa Jelekong mohon diperbaiki", "received": due_today.isoformat()},
             {"id": "LATE", "text": "Sampah menumpuk di pasar Soreang tidak diangkut", "received": late.isoformat()}]
    assert client.post("/v1/complaints", json=items, headers=ADMIN_AUTH).status_code == 201
    overdue = client.get("/v1/queue?overdue=true", headers=ADMIN_AUTH).json
    assert [i["id"] for i in overdue["items"]] == ["LATE"]
    assert overdue["items"][0]["working_days_open"] == sla.VERIFY_DAYS + 1


def test_clock_starting_at_runs_on_from_the_moment():
    clock = Clock.starting_at("2030-02-05T23:59:00+07:00")
    assert clock.today().isoformat() == "2030-02-05"
    later = Clock(clock.offset + timedelta(minutes=2))  # two minutes on: the next day in WIB
    assert later.today().isoformat() == "2030-02-06"
    assert Clock.starting_at("2030-02-05T09:00:00").now().utcoffset() == timedelta(0)  # naive means WIB, read as UTC
