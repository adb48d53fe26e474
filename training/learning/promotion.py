"""Promote a model into a models directory only if it is not worse; roll back; log everything.

The gate (docs/learning.md): paired bootstrap over the rows of the comparison slice recorded
by ``disposisi retrain`` (per-row top-1 / top-3 hits of champion and challenger). The
challenger is refused when, for top-1 or top-3, its mean difference to the champion is
negative and the bootstrap probability that it is worse exceeds ``MAX_P_WORSE`` (0.9).

Fair comparison: only rows that neither model trained on count. The slice rows' fingerprints
are matched against the champion's training fingerprints (its own card, sealed) and those of
the challenger fitted for the comparison; seen rows are dropped. When that leaves fewer than
``MIN_FAIR_ROWS`` (or, for a smaller slice, fewer than the whole slice), the gate does not
judge: it says so, with the counts and what to do.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from routing_model.artifact.heads import LAYOUT, head_dir_files
from routing_model.artifact.persistence import (
    CARD_DIGEST_FILE,
    CARD_FILE,
    MODEL_FILE,
    SERVED_FILE,
    read_card,
    verify_model,
)
from routing_model.artifact.store import CURRENT, PREVIOUS, point, switch_lock
from routing_model.errors import DisposisiError
from routing_model.registry.agencies import DEFAULT_REGISTRY, Registry
from training.fingerprints import split, unpack

N_BOOTSTRAP = 2000
BOOTSTRAP_SEED = 0
MAX_P_WORSE = 0.90
LOG_FILE = "promotions.jsonl"
MODEL_DIR_FILES = (
    MODEL_FILE,
    SERVED_FILE,
    CARD_FILE,
    CARD_DIGEST_FILE,
)  # what a promoted (whole) model directory holds, nothing else
INCOMING = ".incoming"  # suffix of a model being copied into a models directory, never pointed to
METRICS = ("top1", "top3")
MIN_FAIR_ROWS = 30
# the slow stages of promote(), each reported to its ``progress`` callback once: new model
# loaded (and checked against the registry), gate decided (bootstrap), copied and verified, switched
PROMOTE_STAGES = ("load", "gate", "copy", "switch")


def model_files(card: dict) -> tuple[str, ...]:
    """The files of a model directory that a promotion copies: a whole model's, or a head's own (by its card)."""
    return head_dir_files(card) if card.get("layout") == LAYOUT else MODEL_DIR_FILES


def same_model(a: dict, b: dict) -> bool:
    """Two cards seal the same model files (a whole model's file, or a head's files on the same base)."""
    keys = ("model_sha256", "head_files", "base_digest")
    return all(a.get(k) == b.get(k) for k in keys) and any(a.get(k) for k in keys)


def link_or_copy(source: Path, target: Path) -> None:
    """A hard link where the file system allows it: promoting a model copies no bytes (model
    files are only ever replaced whole, never edited in place, so the link cannot change)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


class PromotionError(DisposisiError, RuntimeError):
    """Promotion or rollback refused; nothing was changed."""


def paired_bootstrap(champion_hits, challenger_hits, n: int = N_BOOTSTRAP, seed: int = BOOTSTRAP_SEED) -> dict:
    """Mean difference (challenger − champion), its 95% percentile interval, and P(challenger worse)."""
    a = np.asarray(champion_hits, dtype=float)
    b = np.asarray(challenger_hits, dtype=float)
    if a.shape != b.shape or a.size == 0:
        raise ValueError("paired bootstrap needs two equally long, non-empty hit vectors")
    diff = b - a
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, diff.size, size=(n, diff.size))
    means = diff[idx].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    a_ci, b_ci = np.percentile(a[idx].mean(axis=1), [2.5, 97.5]), np.percentile(b[idx].mean(axis=1), [2.5, 97.5])
    return {
        "champion": float(a.mean()),
        "challenger": float(b.mean()),
        "champion_ci95": [float(a_ci[0]), float(a_ci[1])],
        "challenger_ci95": [float(b_ci[0]), float(b_ci[1])],
        "diff": float(diff.mean()),
        "ci95": [float(lo), float(hi)],
        "p_worse": float((means < 0).mean()),
        "n": int(diff.size),
        "resamples": n,
    }


def fair_rows(comparison: dict, champion_card: dict | None = None) -> tuple[np.ndarray | None, dict]:
    """Mask of the slice rows neither model trained on, and the counts; (None, {...}) if not recorded."""
    try:
        prints = split((comparison.get("slice") or {}).get("fingerprints"))
    except ValueError:
        return None, {"note": "the comparison records no row fingerprints: rows seen in training could not be excluded"}
    champion = unpack((champion_card or {}).get("training_fingerprints")) or unpack(
        (comparison.get("champion") or {}).get("training_fingerprints")
    )
    if champion is not None:  # and the slice rows it saw through its base (other regions' decisions, readapt)
        champion |= unpack((comparison.get("champion") or {}).get("seen_through_base")) or set()
    challenger = unpack((comparison.get("challenger") or {}).get("training_fingerprints"))
    if champion is None or challenger is None:
        missing = "the current model" if champion is None else "the challenger"
        return None, {
            "note": f"{missing} records no training fingerprints: rows seen in training could not be excluded"
        }
    by_champion = np.array([fp in champion for fp in prints], dtype=bool)
    by_challenger = np.array([fp in challenger for fp in prints], dtype=bool)
    keep = ~(by_champion | by_challenger)
    return keep, {
        "slice": len(prints),
        "seen_by_champion": int(by_champion.sum()),
        "seen_by_challenger": int(by_challenger.sum()),
        "fair": int(keep.sum()),
    }


def _date_range(comparison: dict, keep: np.ndarray | None) -> str:
    dates = (comparison.get("per_row") or {}).get("dates")
    if isinstance(dates, list) and keep is not None and len(dates) == len(keep):
        kept = sorted(str(d) for d, k in zip(dates, keep) if k and d)
        if kept:
            return f"{kept[0]} to {kept[-1]}"
    sl = comparison.get("slice") or {}
    return f"{sl.get('from', '?')} to {sl.get('to', '?')}"


def _ci(x: list[float]) -> str:
    return f"[{x[0]:.3f}, {x[1]:.3f}]"


def gate(comparison: dict, champion_card: dict | None = None) -> dict:
    """Decision on a card's ``champion_challenger`` block: {"ok": bool, "metrics": {...}, "why": str, ...}.

    ``champion_card``: the current model's card, whose training fingerprints say which rows it saw.
    """
    per_row = comparison.get("per_row") or {}
    hits = {
        f"{who}_{m}": np.array([int(c) for c in per_row.get(f"{who}_{m}", "")], dtype=np.int8)
        for who in ("champion", "challenger")
        for m in METRICS
    }
    keep, counts = fair_rows(comparison, champion_card)
    if keep is not None and any(len(v) != len(keep) for v in hits.values()):
        keep, counts = (
            None,
            {"note": "the row fingerprints do not match the per-row hits: rows seen in training could not be excluded"},
        )
    rule = f"refuse if diff < 0 and P(worse) > {MAX_P_WORSE} ({N_BOOTSTRAP} paired resamples, seed {BOOTSTRAP_SEED}) on rows neither model trained on"
    n_all = len(hits["champion_top1"])
    if n_all == 0 or any(len(v) != n_all for v in hits.values()):
        return {
            "ok": False,
            "fair": False,
            "why": "the comparison records no usable per-row hits; retrain it against the current model",
            "counts": counts,
            "rule": rule,
        }
    dates = _date_range(comparison, keep)
    # a slice that was small to begin with is retrain's business (MIN_SLICE); here: too few *remain* after exclusion
    needed = min(MIN_FAIR_ROWS, counts.get("slice", 0))
    if keep is not None and counts["fair"] < needed:
        why = (
            f"cannot compare the models fairly: of the {counts['slice']} rows of the comparison slice, the current model "
            f"trained on {counts['seen_by_champion']} and the challenger on {counts['seen_by_challenger']}, leaving "
            f"{counts['fair']} that neither has seen (at least {needed} are needed). Label more recent complaints "
            "(newer than both models' training data) and retrain, or promote with --force --reason TEXT"
        )
        return {"ok": False, "fair": False, "why": why, "counts": counts, "rule": rule}
    if keep is not None:
        hits = {k: v[keep] for k, v in hits.items()}
    result = {m: paired_bootstrap(hits[f"champion_{m}"], hits[f"challenger_{m}"]) for m in METRICS}
    worse = [m for m in METRICS if result[m]["diff"] < 0 and result[m]["p_worse"] > MAX_P_WORSE]
    n = result["top1"]["n"]
    scope = (
        f"{n} rows dated {dates} that neither model trained on ({n_all - n} of the {n_all} slice rows excluded: "
        f"seen by the current model {counts['seen_by_champion']}, by the challenger {counts['seen_by_challenger']})"
        if keep is not None
        else f"{n} slice rows dated {dates} ({counts['note']})"
    )
    figures = "; ".join(
        f"{m} current {result[m]['champion']:.3f} {_ci(result[m]['champion_ci95'])} vs new "
        f"{result[m]['challenger']:.3f} {_ci(result[m]['challenger_ci95'])}, diff {result[m]['diff']:+.3f} "
        f"{_ci(result[m]['ci95'])}, P(worse)={result[m]['p_worse']:.2f}"
        for m in METRICS
    )
    if worse:
        why = f"worse than the current model beyond noise on {' and '.join(worse)}: {figures}; on {scope}"
    else:
        why = f"not worse than the current model beyond noise: {figures}; on {scope}"
    return {"ok": not worse, "fair": keep is not None, "metrics": result, "why": why, "counts": counts, "rule": rule}


def check_label_set(card: dict, registry: Registry) -> list[str]:
    """Problems with the model's agencies under this registry (empty list: fine)."""
    problems = []
    unknown = [c for c in card.get("classes", []) if c not in registry.names]
    retired = [c for c in card.get("classes", []) if c in registry.names and not registry.get(c).active]
    if unknown:
        problems.append(
            f"agencies the registry does not know: {', '.join(unknown[:5])}" + (" …" if len(unknown) > 5 else "")
        )
    if retired:
        problems.append(
            f"agencies the registry has retired: {', '.join(retired[:5])}" + (" …" if len(retired) > 5 else "")
        )
    return problems


def _log(models_dir: Path, entry: dict) -> None:
    with open(models_dir / LOG_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _user(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def promote(
    new_dir,
    models_dir,
    force: bool = False,
    reason: str | None = None,
    by: str | None = None,
    registry_path=DEFAULT_REGISTRY,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Make ``new_dir`` the current model of ``models_dir`` if it passes the gate; returns the log entry.

    ``progress(stage)`` is called after each of ``PROMOTE_STAGES`` (loading and copying a large
    model take a while), so a command can show how far it got without this module printing.
    """
    done = progress or (lambda stage: None)
    models_dir = Path(models_dir)
    new_dir = Path(new_dir)
    if force and not (reason and reason.strip()):
        raise PromotionError("--force needs --reason TEXT (it is recorded in promotions.jsonl)")
    if models_dir.exists() and not models_dir.is_dir():
        raise PromotionError(f"{models_dir} is not a directory")
    card = verify_model(new_dir)  # ModelLoadError: not a (trustworthy) model, or a head without its base
    registry = Registry.load(registry_path)
    problems = check_label_set(card, registry)
    if problems:
        raise PromotionError(
            f"{new_dir} was trained with a label set the registry {registry_path} does not match ({'; '.join(problems)}); "
            "retrain it under this registry"
        )
    done("load")
    with switch_lock(models_dir):  # from reading `current` to the log line: one switch at a time
        return _promote_locked(new_dir, models_dir, card, force, reason, by, done)


def _promote_locked(
    new_dir: Path,
    models_dir: Path,
    card: dict,
    force: bool,
    reason: str | None,
    by: str | None,
    done: Callable[[str], None],
) -> dict:
    version = str(card["version"])
    current_card, current_version = None, None
    link = models_dir / CURRENT
    if link.exists():
        current_card = read_card(link.resolve())
        current_version = str(current_card.get("version"))
    if current_version == version:
        raise PromotionError(f"{version} is already the current model of {models_dir}")

    decision: dict
    if current_card is None:
        decision = {"ok": True, "why": "no current model: first promotion"}
    else:
        comparison = card.get("champion_challenger")
        parent = (card.get("parent") or {}).get("version")
        if not comparison:
            decision = {
                "ok": False,
                "why": "the model carries no champion/challenger comparison (train it with `disposisi retrain`)",
            }
        elif parent != current_version:
            decision = {
                "ok": False,
                "why": f"the model was compared with {parent}, but the current model is {current_version}; retrain it against the current model",
            }
        else:
            decision = gate(comparison, current_card)
    done("gate")
    if not decision["ok"] and not force:
        raise PromotionError(f"refused to promote {version}: {decision['why']}. Use --force --reason TEXT to override.")

    # everything checked: copy in, then switch the pointers
    models_dir.mkdir(parents=True, exist_ok=True)
    for leftover in models_dir.glob(f".*{INCOMING}"):  # a copy a killed promotion left (we hold the lock)
        shutil.rmtree(leftover, ignore_errors=True)
    target = models_dir / version
    if new_dir.resolve().parent != models_dir.resolve() or new_dir.resolve().name != version:
        if target.exists():
            existing = read_card(target)
            if not same_model(existing, card):
                raise PromotionError(f"{target} already exists and holds a different model")
        else:
            tmp = models_dir / f".{version}{INCOMING}"
            tmp.mkdir()
            for name in model_files(card):  # only the model: never training texts or other files beside it
                link_or_copy((new_dir / name).resolve(), tmp / name)
            os.replace(tmp, target)
        verify_model(target)  # verify the copy
    else:
        target = new_dir.resolve()
    done("copy")
    if current_card is not None:
        point(models_dir, PREVIOUS, link.resolve())
    point(models_dir, CURRENT, target)
    entry = {
        "event": "promote",
        "at": _now(),
        "by": _user(by),
        "version": version,
        "previous": current_version,
        "forced": bool(force and not decision["ok"]),
        "force_requested": bool(force),
        "reason": reason,
        "decision": decision["why"],
        "figures": gate_figures(card, decision),
    }
    _log(models_dir, entry)
    done("switch")
    return entry


def gate_figures(card: dict, decision: dict) -> dict:
    """What the gate compared and decided, without row fingerprints (for logs, jobs and pages)."""
    cc = card.get("champion_challenger") or {}
    out = {
        "slice": {k: v for k, v in (cc.get("slice") or {}).items() if k in ("from", "to", "n", "rule")},
        "champion": {
            k: v
            for k, v in (cc.get("champion") or {}).items()
            if k not in ("training_fingerprints", "seen_through_base")
        },
        "challenger": {k: v for k, v in (cc.get("challenger") or {}).items() if k != "training_fingerprints"},
    }
    if "counts" in decision:
        out["rows"] = decision["counts"]
    if "metrics" in decision:
        out["bootstrap"] = {
            m: {
                k: v
                for k, v in s.items()
                if k in ("n", "champion", "champion_ci95", "challenger", "challenger_ci95", "diff", "ci95", "p_worse")
            }
            for m, s in decision["metrics"].items()
        }
        out["rule"] = decision["rule"]
    return out


def rollback(models_dir, by: str | None = None, reason: str | None = None) -> dict:
    """Switch ``current`` back to ``previous`` (and ``previous`` to the model that was current)."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        raise PromotionError(f"{models_dir} is not a models directory")
    with switch_lock(models_dir):
        return _rollback_locked(models_dir, by, reason)


def _rollback_locked(models_dir: Path, by: str | None, reason: str | None) -> dict:
    current, previous = models_dir / CURRENT, models_dir / PREVIOUS
    if not current.exists():
        raise PromotionError(f"{models_dir} has no current model")
    if not previous.exists():
        raise PromotionError(f"{models_dir} has no previous model to roll back to")
    old, back = current.resolve(), previous.resolve()
    verify_model(back)  # refuse to switch to something unloadable (a head: its base too)
    point(models_dir, CURRENT, back)
    point(models_dir, PREVIOUS, old)
    entry = {
        "event": "rollback",
        "at": _now(),
        "by": _user(by),
        "version": read_card(back).get("version"),
        "previous": read_card(old).get("version"),
        "reason": reason,
    }
    _log(models_dir, entry)
    return entry
