"""The ``adapt`` job: make a region's model from the deployment's base in the background (the operator's page).

The region was set up by ``service.region_wizard`` (its row ``adapting``, its ``registry.csv`` and, from a LAPOR!
export, its labeled rows under ``DATA_DIR/regions/<slug>/``). This handler builds the model with
``build_region_model`` (the same step ``disposisi region add`` runs) and moves the row to ``active``, or ``failed``
with the one-line reason; the job row records the same outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from .db import create_engine
from .job_runner import JobContext
from .jobs import JobOutcome
from .region_models import build_region_model
from .regions import RegionError, RegionStore, region_dir, registry_path

LABELED_STEM = "labeled"  # DATA_DIR/regions/<slug>/labeled.<xlsx|csv>: the export's rows that adapt the model


def labeled_file(data_dir: str | Path, slug: str) -> Path | None:
    """The region's stored labeled export, if the operator uploaded one."""
    found = sorted(region_dir(data_dir, slug).glob(f"{LABELED_STEM}.*"))
    return found[0] if found else None


def _finish(regions: RegionStore, slug: str, status: str, detail: str | None = None) -> bool:
    """Move the region from ``adapting`` to ``status``; False when an operator removed it meanwhile (kept so)."""
    try:
        regions.set_status(slug, status, detail, only_from="adapting")
    except RegionError:
        return False
    return True


def run_adapt(context: JobContext, job: dict, report: Callable[[dict], None]) -> JobOutcome:
    """The handler of ``adapt`` jobs (service.job_runner): build, then mark the region active (or failed)."""
    slug = job["region_slug"]
    engine = create_engine(context.database_url)
    regions = RegionStore(SimpleNamespace(engine=engine, clock=context.clock))
    try:
        row = regions.get(slug)
        if row is None or row.status != "adapting":
            raise RegionError(f"region '{slug}' is not waiting to be adapted (status {row.status if row else 'none'})")
        registry = registry_path(context.data_dir, slug)
        if not registry.is_file():
            raise RegionError(f"region '{slug}' has no registry.csv: set its agencies first")
        labeled = labeled_file(context.data_dir, slug)
        report({"stage": "adapting", "labeled": bool(labeled)})
        try:
            target = build_region_model(context.data_dir, slug, registry, labeled=labeled)
        except Exception as exc:  # noqa: BLE001 - any failure leaves the region 'failed' with its reason
            text = str(exc).strip().splitlines()
            reason = text[0] if text else type(exc).__name__
            _finish(regions, slug, "failed", reason[:500])
            return JobOutcome("failed", reason=reason)
        report({"stage": "activating", "model": target.name})
        if not _finish(regions, slug, "active"):
            return JobOutcome(
                "failed",
                {"model": target.name},
                f"region {slug} was removed while its model was made; restore serves it",
            )
        return JobOutcome("passed", {"model": target.name})
    finally:
        engine.dispose()
