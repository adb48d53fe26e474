"""Promote a model into a models directory only if it is not worse; roll back; log everything.

The gate (docs/learning.md): paired bootstrap over the rows of the comparison slice recorded
by ``disposisi retrain`` (per-row top-1 / top-3 hits of champion and challenger). The
challenger is refused when, for top-1 or top-3, its mean difference to the champion is
negative and the bootstrap probability that it is worse exceeds ``MAX_P_WORSE`` (0.9).
"""
from __future__ import annotations

import getpass
import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from routing_model.model_store import CURRENT, PREVIOUS, point
from routing_model.persistence import load_model, read_card
from routing_model.registry import DEFAULT_REGISTRY, Registry
from routing_model.errors import DisposisiError

N_BOOTSTRAP = 2000
BOOTSTRAP_SEED = 0
MAX_P_WORSE = 0.90
LOG_FILE = "promotions.jsonl"
METRICS = ("top1", "top3")


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
    return {
        "champion": float(a.mean()),
        "challenger": float(b.mean()),
        "diff": float(diff.mean()),
        "ci95": [float(lo), float(hi)],
        "p_worse": float((means < 0).mean()),
        "n": int(diff.size),
        "resamples": n,
    }


def gate(comparison: dict) -> dict:
    """Decision on a card's ``champion_challenger`` block: {"ok": bool, "metrics": {...}, "why": str}."""
    per_row = comparison.get("per_row") or {}
    result, worse = {}, []
    for m in METRICS:
        a = [int(c) for c in per_row.get(f"champion_{m}", "")]
        b = [int(c) for c in per_row.get(f"challenger_{m}", "")]
        stats = paired_bootstrap(a, b)
        result[m] = stats
        if stats["diff"] < 0 and stats["p_worse"] > MAX_P_WORSE:
            worse.append(f"{m} {stats['challenger']:.3f} vs {stats['champion']:.3f} (diff {stats['diff']:+.3f}, P(worse)={stats['p_worse']:.2f})")
    why = (
        "worse than the current model beyond noise on " + "; ".join(worse)
        if worse
        else "not worse than the current model beyond noise (" + ", ".join(f"{m} {result[m]['diff']:+.3f}, P(worse)={result[m]['p_worse']:.2f}" for m in METRICS) + ")"
    )
    return {"ok": not worse, "metrics": result, "why": why, "rule": f"refuse if diff < 0 and P(worse) > {MAX_P_WORSE} ({N_BOOTSTRAP} paired resamples, seed {BOOTSTRAP_SEED})"}


def check_label_set(card: dict, registry: Registry) -> list[str]:
    """Problems with the model's agencies under this registry (empty list: fine)."""
    problems = []
    unknown = [c for c in card.get("classes", []) if c not in registry.names]
    retired = [c for c in card.get("classes", []) if c in registry.names and not registry.get(c).active]
    if unknown:
        problems.append(f"agencies the registry does not know: {', '.join(unknown[:5])}" + (" …" if len(unknown) > 5 else ""))
    if retired:
        problems.append(f"agencies the registry has retired: {', '.join(retired[:5])}" + (" …" if len(retired) > 5 else ""))
    return problems


def _log(models_dir: Path, entry: dict) -> None:
    with open(models_dir / LOG_FILE, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _user(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def promote(new_dir, models_dir, force: bool = False, reason: str | None = None, by: str | None = None, registry_path=DEFAULT_REGISTRY) -> dict:
    """Make ``new_dir`` the current model of ``models_dir`` if it passes the gate; returns the log entry."""
    models_dir = Path(models_dir)
    new_dir = Path(new_dir)
    if force and not (reason and reason.strip()):
        raise PromotionError("--force needs --reason TEXT (it is recorded in promotions.jsonl)")
    if models_dir.exists() and not models_dir.is_dir():
        raise PromotionError(f"{models_dir} is not a directory")
    _, card = load_model(new_dir)  # ModelLoadError: not a (trustworthy) model
    registry = Registry.load(registry_path)
    problems = check_label_set(card, registry)
    if problems:
        raise PromotionError(
            f"{new_dir} was trained with a label set the registry {registry_path} does not match ({'; '.join(problems)}); "
            "retrain it under this registry"
        )
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
            decision = {"ok": False, "why": "the model carries no champion/challenger comparison (train it with `disposisi retrain`)"}
        elif parent != current_version:
            decision = {
                "ok": False,
                "why": f"the model was compared with {parent}, but the current model is {current_version}; retrain it against the current model",
            }
        else:
            decision = gate(comparison)
    if not decision["ok"] and not force:
        raise PromotionError(f"refused to promote {version}: {decision['why']}. Use --force --reason TEXT to override.")

    # everything checked: copy in, then switch the pointers
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / version
    if new_dir.resolve().parent != models_dir.resolve() or new_dir.resolve().name != version:
        if target.exists():
            existing = read_card(target)
            if existing.get("model_sha256") != card.get("model_sha256"):
                raise PromotionError(f"{target} already exists and holds a different model")
        else:
            tmp = models_dir / f".{version}.incoming"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(new_dir, tmp, symlinks=False)
            os.replace(tmp, target)
        load_model(target)  # verify the copy
    else:
        target = new_dir.resolve()
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
        "figures": _figures(card, decision),
    }
    _log(models_dir, entry)
    return entry


def _figures(card: dict, decision: dict) -> dict:
    cc = card.get("champion_challenger") or {}
    out = {
        "slice": {k: v for k, v in (cc.get("slice") or {}).items() if k in ("from", "to", "n", "rule")},
        "champion": cc.get("champion"),
        "challenger": cc.get("challenger"),
    }
    if "metrics" in decision:
        out["bootstrap"] = {m: {k: v for k, v in s.items() if k in ("diff", "ci95", "p_worse")} for m, s in decision["metrics"].items()}
        out["rule"] = decision["rule"]
    return out


def rollback(models_dir, by: str | None = None, reason: str | None = None) -> dict:
    """Switch ``current`` back to ``previous`` (and ``previous`` to the model that was current)."""
    models_dir = Path(models_dir)
    current, previous = models_dir / CURRENT, models_dir / PREVIOUS
    if not current.exists():
        raise PromotionError(f"{models_dir} has no current model")
    if not previous.exists():
        raise PromotionError(f"{models_dir} has no previous model to roll back to")
    old, back = current.resolve(), previous.resolve()
    load_model(back)  # refuse to switch to something unloadable
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
