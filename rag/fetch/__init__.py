"""`rag fetch`: download ministers' answers from the Folketing's open data, for indexing offline.

    summary = fetch_answers(Path("corpus"), Wanted(udvalg=("SUU",), date_from=date(2024, 1, 1)))

Lists the answers the filters select (`answers.candidates`), reads what the open data says about
each (`answers.describe`), and downloads its PDF beside a `manifest.csv` (`files`). What is already
there, as the open data has it now, is not fetched again; a file that fails (no PDF, an HTML error
page, a cut-off download, a service that keeps failing) is named in the summary and the rest goes on.

The subpackage imports only the foundation (rag.config, rag.errors, rag.text) and the standard
library: it knows nothing of parsing or indexing; `rag index` reads the files and manifests it writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.config import FetchSettings
from rag.errors import FetchError
from rag.fetch.answers import KINDS, Lookups, OdaAnswer, Wanted, candidates, describe
from rag.fetch.files import (
    MANIFEST,
    file_name,
    folder_of,
    pdf_problem,
    read_manifest,
    row_of,
    unchanged,
    write_atomic,
    write_manifest,
)
from rag.fetch.oda import OdaClient

__all__ = ["KINDS", "FetchSummary", "OdaClient", "Wanted", "fetch_answers"]


@dataclass
class FetchSummary:
    """What a run did: files fetched, already there, failed (with why), and what a dry run would fetch."""

    fetched: list[str] = field(default_factory=list)  # paths relative to the destination
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (answer, Danish reason)
    planned: list[str] = field(default_factory=list)  # --dry-run: what would be fetched
    considered: int = 0  # answers in the period before the per-answer filters
    requests: int = 0
    interrupted: bool = False


def fetch_answers(dest: Path, wanted: Wanted, settings: FetchSettings | None = None, *, limit: int | None = None,
                  dry_run: bool = False, progress: bool = True, client: OdaClient | None = None) -> FetchSummary:
    """Fetch the answers `wanted` selects into `dest` (at most `limit`). Raises FetchError when the
    service cannot be asked at all; a failure of one answer is recorded in the summary instead."""
    client = client or OdaClient(settings or FetchSettings())
    lookups = Lookups(client)
    summary = FetchSummary()
    found = candidates(client, lookups, wanted)
    summary.considered = len(found)
    known = _known(dest)
    from tqdm import tqdm

    bar = tqdm(total=limit if limit is not None else len(found), desc="Henter svar", unit="svar",
               disable=not progress, leave=False)
    taken = 0
    try:
        for answer in found:
            if limit is not None and taken >= limit:
                break
            label = answer.title[:60] or f"dokument {answer.dokument_id}"
            here = known.get(answer.dokument_id)
            if here and not dry_run and unchanged(*here, answer) and _matches(here[1].get("spm_type", ""),
                                                                               here[1].get("udvalg_kode", ""), wanted):
                summary.unchanged.append(_relative(dest, here[0] / here[1]["file"]))
                taken += 1
                bar.update(1)
                continue
            try:
                describe(client, lookups, answer)
            except FetchError as exc:
                summary.failed.append((label, str(exc)))
                continue
            if not _matches(answer.kind, answer.udvalg_kode, wanted):
                continue
            taken += 1
            bar.update(1)
            folder, name = folder_of(dest, answer), file_name(answer)
            if dry_run:
                summary.planned.append(_relative(dest, folder / name))
                continue
            _download(client, dest, folder, name, answer, summary, label)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        bar.close()
        summary.requests = client.requests
    return summary


def _download(client: OdaClient, dest: Path, folder: Path, name: str, answer: OdaAnswer, summary: FetchSummary,
              label: str) -> None:
    rows = read_manifest(folder)
    if unchanged(folder, rows.get(name), answer):
        summary.unchanged.append(_relative(dest, folder / name))
        return
    if not answer.fil_url:
        summary.failed.append((label, "ingen PDF-fil i de åbne data"))
        return
    try:
        body, headers = client.get(answer.fil_url, accept="application/pdf")
    except FetchError as exc:
        summary.failed.append((label, str(exc)))
        return
    problem = pdf_problem(body, headers.get("content-type", ""))
    if problem:
        summary.failed.append((label, f"{problem} ({answer.fil_url})"))
        return
    write_atomic(folder / name, body)
    rows[name] = row_of(name, answer)
    write_manifest(folder, rows)
    summary.fetched.append(_relative(dest, folder / name))


def _matches(kind: str, udvalg_kode: str, wanted: Wanted) -> bool:
    """Does an answer of this kind and committee pass the filters the open data could not apply?"""
    if wanted.kinds and kind not in wanted.kinds:
        return False
    return not wanted.udvalg or udvalg_kode.upper() in {u.upper() for u in wanted.udvalg}


def _known(dest: Path) -> dict[int, tuple[Path, dict[str, str]]]:
    """Answers already fetched into `dest`: ODA document id -> (folder, manifest row)."""
    out: dict[int, tuple[Path, dict[str, str]]] = {}
    if not dest.is_dir():
        return out
    for manifest in dest.rglob(MANIFEST):
        for row in read_manifest(manifest.parent).values():
            if row.get("oda_dokument_id", "").isdigit():
                out[int(row["oda_dokument_id"])] = (manifest.parent, row)
    return out


def _relative(dest: Path, path: Path) -> str:
    try:
        return path.relative_to(dest).as_posix()
    except ValueError:
        return str(path)


