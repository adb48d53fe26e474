"""The real `disposisi` command on inputs a user gets wrong: one line on stderr, exit 2, no traceback.

Also the command line's own promises: `--version`, help text on every option (and the default
registry path in the help), `train --out` refusing a non-empty directory, and `suggest` answering
the good texts of a batch while reporting the bad ones.
"""

from __future__ import annotations

import argparse
import csv
import json

import pytest
from model_helpers import DEMO_CSV, run_cli

from routing_model.registry.agencies import DEFAULT_REGISTRY
from service.cli.main import build_parser


def _demo_rows(n: int | None = None) -> list[dict]:
    with open(DEMO_CSV, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return rows if n is None else rows[:n]


def _write(path, rows: list[dict]) -> str:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return str(path)


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, demo_model_dir):
    """(name, argv, text the one error line must contain) for things users get wrong."""
    d = tmp_path_factory.mktemp("bad")
    rows = _demo_rows()
    two = _write(d / "two.csv", rows[:2])
    unknown = _write(d / "unknown.csv", [dict(r, agency="Dinas Pariwisata Kota Atlantis") for r in rows[:40]])
    undated = _write(d / "undated.csv", [{k: v for k, v in r.items() if k != "date"} for r in rows[:60]])
    (d / "nonempty").mkdir()
    (d / "nonempty" / "keep.txt").write_text("an admin's file", encoding="utf-8")
    (d / "empty.csv").write_bytes(b"")
    (d / "binary.csv").write_bytes(b"\x00\x01\x02\xff\xfe" * 50)
    table = _write(d / "in.csv", [{"id": "1", "text": rows[0]["text"]}])
    return [
        (
            "train on labels unknown to the registry",
            ["train", "--data", unknown, "--out", d / "m2"],
            "not in the registry",
        ),
        ("train into a non-empty --out", ["train", "--data", DEMO_CSV, "--out", d / "nonempty"], "not empty"),
        (
            "adapt into a non-empty --out",
            ["adapt", "--model", demo_model_dir, "--registry", DEFAULT_REGISTRY, "--out", d / "nonempty"],
            "not empty",
        ),
        ("train on an empty file", ["train", "--data", d / "empty.csv", "--out", d / "m4"], "empty"),
        (
            "train on a missing registry",
            ["train", "--data", DEMO_CSV, "--out", d / "m5", "--registry", d / "nope.csv"],
            "nope.csv",
        ),
        ("evaluate on undated data", ["evaluate", "--data", undated], "date"),
        ("evaluate --split cv on 2 rows", ["evaluate", "--data", two, "--split", "cv"], "at least 15"),
        ("select on 2 rows", ["select", "--data", two], "at least 15"),
        ("select on a missing file", ["select", "--data", d / "missing.csv"], "not found"),
        (
            "classify to an unknown extension",
            ["classify", "--model", demo_model_dir, "--input", table, "--output", d / "out.pdf"],
            ".pdf",
        ),
        (
            "classify onto its own input",
            ["classify", "--model", demo_model_dir, "--input", table, "--output", table],
            "input",
        ),
        (
            "classify a missing model",
            ["classify", "--model", d / "no_model", "--input", table, "--output", d / "o.csv"],
            "no_model",
        ),
        (
            "suggest with a missing model",
            ["suggest", "--model", d / "no_model", "jalan rusak parah sekali"],
            "no_model",
        ),
        (
            "suggest with too few --id",
            ["suggest", "--model", demo_model_dir, "--id", "a", "jalan rusak", "sampah"],
            "--id",
        ),
        ("report on a missing feedback file", ["report", "--feedback", d / "nope.csv", "--out", d / "r"], "not found"),
        (
            "retrain from a missing model",
            ["retrain", "--model", d / "no_model", "--out", d / "m6", "--data", two],
            "no_model",
        ),
        (
            "promote a directory that is not a model",
            ["promote", d / "nonempty", "--models-dir", d / "models"],
            "nonempty",
        ),
        ("rollback with no models dir", ["rollback", "--models-dir", d / "none"], "none"),
    ], d


@pytest.mark.slow
def test_user_errors_are_one_line_exit_2(bad_inputs):
    cases, d = bad_inputs
    failures = []
    for name, argv, expected in cases:
        proc = run_cli(*argv, timeout=300)
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        ok = (
            proc.returncode == 2
            and "Traceback" not in proc.stderr
            and len(lines) == 1
            and lines[0].startswith("disposisi ")
            and expected in lines[0]
        )
        if not ok:
            failures.append(f"{name}: exit {proc.returncode}, stderr {proc.stderr[-600:]!r}")
    assert not failures, "\n".join(failures)
    assert (d / "nonempty" / "keep.txt").read_text(encoding="utf-8") == "an admin's file"
    assert not (d / "m1").exists() and not (d / "m2").exists()


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0
    from importlib import metadata

    assert proc.stdout.strip() == f"disposisi {metadata.version('disposisi')}"


def _walk(parser: argparse.ArgumentParser, path: tuple = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, path + (name,))
        else:
            yield path, action


def test_every_option_of_every_command_has_help():
    actions = list(_walk(build_parser()))
    assert len({p for p, _ in actions}) >= 10  # every sub-command was walked
    missing = [f"{' '.join(p) or 'disposisi'} {a.option_strings or a.dest}" for p, a in actions if not a.help]
    assert not missing, missing


def test_help_names_the_default_registry():
    for command in ("train", "evaluate", "select", "retrain", "promote"):
        proc = run_cli(command, "--help")
        assert proc.returncode == 0
        flat = "".join(proc.stdout.split())  # argparse wraps long paths anywhere
        assert str(DEFAULT_REGISTRY).replace("-", "") in flat.replace("-", ""), (command, proc.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("rows", ["two", "one_agency"])
def test_tiny_data_trains_an_honest_small_data_model(tmp_path, rows):
    """2 rows, or rows of one agency only, are no error: the model leans on the functions and the
    registry, says SMALL DATA, and sends every suggestion to review."""
    demo = _demo_rows()
    data = demo[:2] if rows == "two" else [dict(r, agency=demo[0]["agency"]) for r in demo[:30]]
    path = _write(tmp_path / "tiny.csv", data)
    proc = run_cli("train", "--data", path, "--out", tmp_path / "m")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "SMALL DATA" in proc.stdout
    proc = run_cli("suggest", "--model", tmp_path / "m", "--json", "jalan rusak parah mohon diperbaiki")
    assert proc.returncode == 0 and '"needs_review": true' in proc.stdout


@pytest.mark.slow
def test_train_force_replaces_a_non_empty_out(tmp_path):
    out = tmp_path / "model"
    out.mkdir()
    (out / "old.txt").write_text("old", encoding="utf-8")
    data = _write(tmp_path / "train.csv", _demo_rows(60))
    refused = run_cli("train", "--data", data, "--out", out)
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert not (out / "card.json").exists()
    forced = run_cli("train", "--data", data, "--out", out, "--force")
    assert forced.returncode == 0, forced.stderr
    assert (out / "card.json").is_file() and (out / "model.skops").is_file()


@pytest.mark.slow
def test_suggest_answers_good_texts_and_reports_bad_ones(demo_model_dir):
    texts = [
        "Jalan di Desa Jelekong rusak parah, banyak lubang, mohon diperbaiki",
        "\x01\x02\x1b",
        "e-KTP saya sudah 3 bulan blm jadi, kata petugas blanko habis",
        "   ",
    ]
    proc = run_cli(
        "suggest", "--model", demo_model_dir, "--json", "--id", "A", "--id", "B", "--id", "C", "--id", "D", *texts
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(x["position"], x["id"]) for x in lines] == [(1, "A"), (2, "B"), (3, "C"), (4, "D")]
    assert lines[0]["suggestions"] and lines[2]["suggestions"]
    assert lines[1]["error"]["code"] == "no_visible_text" and lines[3]["error"]["code"] == "empty_text"
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 2 and "text 2 (id B)" in errors[0] and "text 4 (id D)" in errors[1]

    ok = run_cli("suggest", "--model", demo_model_dir, "--json", texts[0], texts[2])
    assert ok.returncode == 0, ok.stderr
    assert [json.loads(line)["id"] for line in ok.stdout.splitlines()] == ["1", "2"]


@pytest.mark.slow
def test_adapt_force_replaces_a_non_empty_out(demo_model_dir, tmp_path):
    out = tmp_path / "adapted"
    out.mkdir()
    (out / "old.txt").write_text("an earlier model's file", encoding="utf-8")
    proc = run_cli(
        "adapt", "--model", demo_model_dir, "--registry", DEFAULT_REGISTRY, "--out", out, "--force", timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-800:]
    assert (out / "card.json").is_file() and (out / "served.npz").is_file()
