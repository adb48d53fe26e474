"""Options several commands share, worded once so every command's help says the same thing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from routing_model.errors import DisposisiError
from routing_model.registry.agencies import DEFAULT_REGISTRY


class UserError(DisposisiError):
    """An error the user can fix (bad input, missing file); printed without a traceback."""


def cli_user() -> str:
    """Who ran the command, for the audit log (``cli:<login>``)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def add_registry_argument(parser, what: str = "agency registry CSV") -> None:
    """``--registry``; the help prints the default path so an admin knows which file is used."""
    parser.add_argument("--registry", default=str(DEFAULT_REGISTRY), help=f"{what} (default: {DEFAULT_REGISTRY})")


def add_column_arguments(parser, label: bool = True) -> None:
    """``--text-column`` / ``--label-column`` / ``--date-column`` of a labeled table."""
    parser.add_argument(
        "--text-column",
        default="text",
        help="column with the complaint text (default 'text'; a LAPOR! export's 'Isi Laporan Awal' is found too)",
    )
    if label:
        parser.add_argument(
            "--label-column",
            default="agency",
            help="column with the agency the complaint was dispatched to (default 'agency'; "
            "LAPOR! 'Instansi Terdisposisi' is found too)",
        )
    parser.add_argument(
        "--date-column",
        default="date",
        help="column with the complaint date (default 'date'; LAPOR! 'Tanggal Laporan Masuk' is found too)",
    )


def add_out_arguments(parser) -> None:
    """``--out`` (a model directory) and ``--force``, for every command that writes a model."""
    parser.add_argument("--out", required=True, help="model directory to write (new or empty; see --force)")
    parser.add_argument(
        "--force", action="store_true", help="write into --out even if it is not empty (its files are replaced)"
    )


def check_out_dir(out, force: bool) -> None:
    """Refuse to write a model over a non-empty directory unless asked: it may be another model."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UserError(f"--out {out} is a file, not a directory")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise UserError(f"--out {out} is not empty; choose a new directory, or pass --force to replace what is in it")


def add_seed_argument(parser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="random seed, for repeatable results (default 0)")


@contextmanager
def stage_progress(
    command: str, stages: int, unit: str = "steps", every: float | None = None
) -> Iterator[Callable[[str], None]]:
    """Progress of a command made of a few slow stages (a bar on a terminal, a log line otherwise);
    yields the callback the library calls with a stage name after each stage (and the number of
    stages, when it knows better than ``stages``), so the library itself never prints."""
    from routing_model.io.progress import DEFAULT_EVERY, progress

    with progress(stages, command, unit, every=DEFAULT_EVERY if every is None else every) as step:
        yield lambda stage, total=None: step(1, total)
