"""Two writers importing one export at once (two servers on one database): the one that loses the race on a
Tracking ID imports again and counts that complaint as already stored, instead of failing with a 500."""

from __future__ import annotations

from desk_helpers import complaint_items

from service.complaints import ComplaintStore, complaints_from_json


def test_an_import_that_races_another_writer_imports_again(store, demo_model, monkeypatch):
    items = complaints_from_json(complaint_items(4), 10_000)
    other = ComplaintStore(store.store)  # the other server: same database, its own store object
    real_window = ComplaintStore._window_docs
    raced = []

    def window_then_race(self, fresh, region):
        # between our look for existing ids and our insert, the other writer stores T-2
        if not raced:
            raced.append(True)
            assert other.import_complaints([i for i in items if i.id == "T-2"], demo_model).added == 1
        return real_window(self, fresh, region)

    monkeypatch.setattr(ComplaintStore, "_window_docs", window_then_race)
    result = store.import_complaints(items, demo_model)
    assert raced and (result.added, result.skipped_existing) == (3, 1)
    assert sorted(result.ids) == ["T-0", "T-1", "T-3"]
    assert store.queue(status="all")["total"] == 4
