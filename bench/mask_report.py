"""How often the name rule of the masker masks a word that is not a name.

Runs ``routing_model.text.names.mask_names`` (the rule inside ``text.mask_personal_data``) over a
text column and writes every masked span, with the words around it, to a TSV for reading by
eye; prints the counts. The false-mask rate is then (spans judged "not a name") / (spans read):
see docs/privacy.md for the figure on the shared LAPOR! texts and how it was judged.

    python -m bench.mask_report --data ../shared/data/lapor/kab_bandung_2021_2023.csv --out /tmp/masked_names.tsv

The output holds personal data of the input: write it outside the repository and delete it
after reading.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections import Counter
from pathlib import Path

from routing_model.io.tabular import column_name, read_table
from routing_model.text.names import NAME_TOKEN, mask_names, office_words


def masked_spans(text: str) -> list[tuple[str, str]]:
    """(span, context) for every name the rule masks in ``text``; context is the masked text
    around the placeholder (the other spans masked too)."""
    found: list[str] = []
    masked = mask_names(text, found)
    contexts = [masked[max(0, m.start() - 40) : m.end() + 40] for m in re.finditer(NAME_TOKEN, masked)]
    return list(zip(found, contexts))


def office_titles(text: str) -> int:
    """How many "Pak Camat", "Bu Lurah", "Bapak Bupati" … (honorific + office word) ``text`` holds."""
    offices = office_words()
    return sum(m.group(1).lower() in offices for m in _TITLE.finditer(text))


_TITLE = re.compile(r"\b(?:[Bb]apak|[Ii]bu|[Pp]ak|[Bb]u|BAPAK|IBU|PAK|BU)[ \t]+([A-Za-z]+)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data/lapor/kab_bandung_2021_2023.csv")
    ap.add_argument("--column", default="text")
    ap.add_argument("--out", required=True, help="TSV of masked spans (personal data: keep it out of the repository)")
    args = ap.parse_args(argv)
    frame = read_table(args.data)
    texts = frame[column_name(frame, args.column)].fillna("").astype(str).tolist()
    rows, per_text = [], Counter()
    titles_before = titles_after = 0
    for i, text in enumerate(texts):
        titles_before += office_titles(text)
        titles_after += office_titles(mask_names(text))
        for span, context in masked_spans(text):
            rows.append((i, span, context.replace("\t", " ")))
            per_text[i] += 1
    with Path(args.out).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter="\t")
        writer.writerow(["row", "masked", "context", "is_name"])
        writer.writerows((i, span, ctx, "") for i, span, ctx in rows)
    words = sum(len(span.split()) for _, span, _ in rows)
    print(
        f"{len(texts)} texts, {len(per_text)} with a masked name, {len(rows)} masked spans ({words} words) -> {args.out}"
    )
    print(
        f"titles of office (honorific + a word of jabatan.txt, e.g. 'Pak Camat'): {titles_before} in the texts, {titles_after} after masking"
    )
    print("fill the is_name column by eye (y/n); false-mask rate = n / (y + n)")


if __name__ == "__main__":
    main()
