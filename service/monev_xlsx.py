"""The Monev report as an .xlsx workbook, laid out as a province's Monev SP4N-LAPOR! report is handed in.

Sheets: ``Ringkasan`` (a title block: report, province, period, as of; then one row per region and the province
total), ``Mingguan`` (per region and ISO week, then the province per week), ``Koreksi`` (corrections per region and
agency, full names). The headers are Indonesian, the language the report is filed in. Built with openpyxl, as the
desk's other exports; the figures are ``service.monev.monev``'s, nothing is computed here.
"""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import sla

# (figure, header, number format): the columns of the summary and weekly sheets
FIGURES = (
    ("received", "Pengaduan masuk", "0"),
    ("open", "Masih terbuka", "0"),
    ("overdue", "Lewat batas verifikasi (3 hari kerja)", "0"),
    ("overdue_now", "Lewat batas saat ini (semua)", "0"),
    ("decided", "Sudah diputuskan", "0"),
    ("median_days", "Median hari kerja sampai diputuskan", "0.0"),
    ("decisions", "Keputusan admin", "0"),
    ("top1_rate", "Saran pertama diterima", "0%"),
    ("top3_rate", "Salah satu dari 3 saran diterima", "0%"),
    ("corrections", "Koreksi", "0"),
    ("forwards_in", "Diteruskan masuk", "0"),
    ("forwards_out", "Diteruskan keluar", "0"),
    ("lapor", "Diteruskan lewat LAPOR!", "0"),
    ("lapor_pending_share", "Masih menunggu di LAPOR!", "0%"),
)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F0")
BOLD = Font(bold=True)
MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _table(ws, first_row: int, leading: list[str], rows: list[tuple[list, dict]], formats: bool = True) -> None:
    """A header at ``first_row`` (the ``leading`` columns, then every figure), then one row per (leading values,
    figures); widths set, header frozen."""
    headers = leading + [h for _, h, _ in FIGURES]
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=first_row, column=col, value=text)
        cell.font, cell.fill = BOLD, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r, (lead, figures) in enumerate(rows, start=first_row + 1):
        for col, value in enumerate(lead, start=1):
            ws.cell(row=r, column=col, value=value)
        for col, (key, _, fmt) in enumerate(FIGURES, start=len(lead) + 1):
            cell = ws.cell(row=r, column=col, value=figures.get(key))
            if formats:
                cell.number_format = fmt
    for col, text in enumerate(headers, start=1):
        longest = max(
            [len(str(ws.cell(row=r, column=col).value or "")) for r in range(first_row + 1, ws.max_row + 1)] + [0]
        )
        ws.column_dimensions[get_column_letter(col)].width = min(60, max(12, longest + 2, min(len(text), 22)))
    ws.freeze_panes = ws.cell(row=first_row + 1, column=len(leading) + 1)


def monev_workbook(report: dict, province_name: str, generated_at: datetime) -> bytes:
    """The workbook of one ``monev()`` report of ``province_name`` ("Sulawesi Selatan", or "Semua provinsi")."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Ringkasan"
    start, end = (date.fromisoformat(report["period"][k]) for k in ("from", "to"))
    ws["A1"] = "Monitoring dan Evaluasi SP4N-LAPOR! — Disposisi"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"Provinsi: {province_name}"
    ws["A3"] = f"Periode: {start:%d-%m-%Y} s.d. {end:%d-%m-%Y} (pengaduan masuk dalam periode; minggu ISO, Senin awal)"
    ws["A4"] = f"Keadaan per: {generated_at.astimezone(sla.LOCAL_TZ):%d-%m-%Y %H:%M} WIB"
    for cell in ("A2", "A3", "A4"):
        ws[cell].font = Font(italic=True)
    rows = [([r["name"], r["slug"]], r) for r in report["regions"]]
    rows.append((["Jumlah provinsi", ""], report["total"]))
    _table(ws, 6, ["Wilayah", "Kode wilayah"], rows)
    for cell in ws[ws.max_row]:
        cell.font = BOLD

    weekly = wb.create_sheet("Mingguan")
    rows = [
        ([r["name"], w["iso"], date.fromisoformat(w["week"])], w)
        for r in report["regions"]
        for w in report["region_weeks"][r["slug"]]
    ]
    rows += [(["Jumlah provinsi", w["iso"], date.fromisoformat(w["week"])], w) for w in report["weeks"]]
    _table(weekly, 1, ["Wilayah", "Minggu", "Senin"], rows)
    for (cell,) in weekly.iter_rows(min_row=2, min_col=3, max_col=3):
        cell.number_format = "dd-mm-yyyy"

    corrections = wb.create_sheet("Koreksi")
    headers = ["Wilayah", "Instansi", "Dikoreksi dari saran pertama", "Dikoreksi menjadi instansi ini"]
    corrections.append(headers)
    for cell in corrections[1]:
        cell.font, cell.fill = BOLD, HEADER_FILL
    for c in report["corrections"]:
        corrections.append([c["region"], c["agency"], c["away"], c["to"]])
    for col, width in zip("ABCD", (28, 70, 16, 16), strict=True):
        corrections.column_dimensions[col].width = width
    corrections.freeze_panes = "A2"

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
