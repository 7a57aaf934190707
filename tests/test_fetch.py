"""`rag fetch` against a local stand-in for the Folketing's open data (tests/oda_standin.py).

The stand-in serves real records where we have them (committees, actor types from the 2019
snapshot in ../shared/corpora/oda-snapshot-2019) and, for five real answer letters of
tests/fixtures/letters, the records the open data would hold about them, shaped as the service's
documentation and public clients show (Dokument "Svar" with `spørgsmålsid`, Fil with `filurl`,
SagDokument -> Sag, DokumentAktør -> Aktør with roles by name). The letters are served as PDFs.

Checked only against that documentation, not against the live service (no network here): the
role names on the question and answer documents, `spørgsmålsid`/`spørgsmålsordlyd`, where the
question number is (read here from the ft.dk file address), `Periode.kode`, `odata.nextLink`'s form.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO, SHARED
from oda_standin import World, serve

from rag import FetchSettings, Wanted, fetch_answers
from rag.cli import main
from rag.fetch import OdaClient

LETTERS = REPO / "tests" / "fixtures" / "letters"
SNAPSHOT = SHARED / "corpora" / "oda-snapshot-2019"
FAST = ["--pause", "0", "--timeout", "2", "--quiet"]


@dataclass(frozen=True)
class Letter:
    path: str
    udvalg: str | None
    kind: str  # Sagstype
    number: int
    samling: str
    dato: str  # as the open data has it
    asked: str
    asker: tuple[str, str]
    minister: str  # title asked
    by: str  # who answered


SUU_286 = Letter("dev/SUU_286_ft20191-2114669.txt", "SUU", "Alm. del", 286, "20191", "2019-11-28", "2019-11-27",
                 ("Liselott Blixt", "DF"), "sundheds- og ældreministeren", "Magnus Heunicke")
# The open data registers this answer a day after the date the letter prints: the open data wins.
SUU_782 = Letter("dev/SUU_782_ft20191-2200023.txt", "SUU", "Alm. del", 782, "20191", "2020-05-29", "2020-03-23",
                 ("Kirsten Normann Andersen", "SF"), "sundheds- og ældreministeren", "Magnus Heunicke")
SUU_1581 = Letter("dev2/SUU_1581_ft20191-2233971.txt", "SUU", "Alm. del", 1581, "20191", "2020-08-24", "2020-08-18",
                  ("Karina Adsbøl", "DF"), "sundheds- og ældreministeren", "Magnus Heunicke")
BEU_336 = Letter("dev2/BEU_336_ft20191-2225166.txt", "BEU", "Alm. del", 336, "20191", "2020-07-08", "2020-07-03",
                 ("Christian Juhl", "EL"), "beskæftigelsesministeren", "Peter Hummelgaard")
S_231 = Letter("dev2/S_S-231_ft20222-2660732.txt", None, "§ 20-spørgsmål", 231, "20222", "2023-02-10", "2023-02-07",
               ("Morten Messerschmidt", "DF"), "klima-, energi- og forsyningsministeren", "Lars Aagaard")
LETTERS_SERVED = (SUU_286, SUU_782, SUU_1581, BEU_336, S_231)
FILLERS = 130  # more answers than one page (100) in the same period, from another committee


def _pdf(text: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1)
    y = 800
    for line in text.splitlines():
        c.setFont("Helvetica", 10)
        c.drawString(50, y, line)
        y -= 13
        if y < 50:
            c.showPage()
            y = 800
    c.save()
    return out.getvalue()


@pytest.fixture(scope="session")
def pdfs() -> dict[str, bytes]:
    out = {letter.path: _pdf((LETTERS / letter.path).read_text(encoding="utf-8")) for letter in LETTERS_SERVED}
    out["filler"] = _pdf("Et kort svar.\nMed venlig hilsen\nMinisteren")
    return out


def _snapshot(name: str) -> list[dict]:
    if not SNAPSHOT.is_dir():
        pytest.skip(f"the ODA snapshot is not beside the repo ({SNAPSHOT})")
    return json.loads((SNAPSHOT / name).read_text(encoding="utf-8"))


def build_world(pdfs: dict[str, bytes]) -> World:
    """The records and files of the stand-in; file addresses hold '{FILES}' until the server runs."""
    actor_types = _snapshot("Aktørtype.json")
    committees: dict[str, dict] = {}  # each committee's latest row (one per samling)
    for r in sorted(_snapshot("Aktør.json"), key=lambda r: r["periodeid"] or 0):
        if r["typeid"] == 3 and r["gruppenavnkort"] in ("SUU", "BEU", "FIU"):
            committees[r["gruppenavnkort"]] = r
    tables: dict[str, list[dict]] = {
        "Aktørtype": actor_types,
        "Aktør": list(committees.values()),
        "Dokumenttype": [{"id": i, "type": t, "opdateringsdato": "2014-08-01T00:00:00"} for i, t in
                         ((12, "Bilag"), (13, "Spørgsmål"), (16, "§ 20-spørgsmål"), (17, "Svar"))],
        "DokumentAktørRolle": [{"id": i, "rolle": r, "opdateringsdato": "2014-08-01T00:00:00"} for i, r in
                               ((1, "Afsender"), (4, "Besvaret af"), (5, "Minister"), (6, "Spørger"), (8, "Til"))],
        "Sagstype": [{"id": i, "type": t, "opdateringsdato": "2014-08-01T00:00:00"} for i, t in
                     ((3, "Lovforslag"), (5, "Alm. del"), (9, "§ 20-spørgsmål"))],
        "Periode": [{"id": 151, "kode": "20191", "titel": "2019-20", "type": "samling",
                     "startdato": "2019-10-01T00:00:00", "slutdato": "2020-10-06T00:00:00"},
                    {"id": 158, "kode": "20222", "titel": "2022-23 (2. samling)", "type": "samling",
                     "startdato": "2022-11-22T00:00:00", "slutdato": "2023-10-03T00:00:00"}],
        "Sag": [], "SagDokument": [], "Dokument": [], "DokumentAktør": [], "Fil": [],
    }
    world = World(tables)
    types = {r["type"]: r["id"] for r in actor_types}
    people: dict[str, int] = {}

    def actor(name: str, typeid: int, biografi: str | None = None) -> int:
        if name not in people:
            people[name] = 90000 + len(people)
            tables["Aktør"].append({"id": people[name], "typeid": typeid, "gruppenavnkort": "", "navn": name,
                                    "fornavn": "", "efternavn": "", "biografi": biografi, "periodeid": None,
                                    "opdateringsdato": "2019-03-20T19:20:27.5", "startdato": None, "slutdato": None})
        return people[name]

    def link(dokumentid: int, aktørid: int, rolleid: int) -> None:
        rows = tables["DokumentAktør"]
        rows.append({"id": len(rows) + 1, "dokumentid": dokumentid, "aktørid": aktørid, "rolleid": rolleid,
                     "opdateringsdato": "2020-01-01T00:00:00"})

    def case(key: str, typeid: int, periodeid: int, nummer: str) -> int:
        sag_id = 5000 + len(tables["Sag"])
        tables["Sag"].append({"id": sag_id, "typeid": typeid, "nummer": nummer, "periodeid": periodeid,
                              "titel": key, "opdateringsdato": "2020-01-01T00:00:00"})
        return sag_id

    sager = {"SUU": case("SUU alm. del", 5, 151, ""), "BEU": case("BEU alm. del", 5, 151, ""),
             "FIU": case("FIU alm. del", 5, 151, ""), "S 231": case("S 231", 9, 158, "S 231")}

    def document(doc_id: int, typeid: int, dato: str, sag: int, **more: object) -> None:
        tables["Dokument"].append({"id": doc_id, "typeid": typeid, "titel": more.pop("titel", ""),
                                   "dato": f"{dato}T00:00:00", "spørgsmålsordlyd": more.pop("ordlyd", None),
                                   "spørgsmålsid": more.pop("spørgsmålsid", None), "opdateringsdato":
                                   "2020-01-01T00:00:00", **more})
        rows = tables["SagDokument"]
        rows.append({"id": len(rows) + 1, "sagid": sag, "dokumentid": doc_id, "bilagsnummer": None,
                     "opdateringsdato": "2020-01-01T00:00:00", "rolleid": 1})

    def answer_file(doc_id: int, path: str, body: bytes) -> None:
        fil_id = 700000 + doc_id
        world.files[path] = body
        tables["Fil"].append({"id": fil_id, "dokumentid": doc_id, "titel": path.rsplit("/", 1)[-1],
                              "versionsdato": "2020-01-01T00:00:00", "filurl": "{FILES}/" + path,
                              "opdateringsdato": "2020-01-02T10:11:12.3", "variantkode": "P", "format": "PDF"})

    for n, letter in enumerate(LETTERS_SERVED):
        question_id, answer_id = 10000 + 2 * n, 10001 + 2 * n
        sag = sager[letter.udvalg or f"S {letter.number}"]
        s20 = letter.kind == "§ 20-spørgsmål"
        document(question_id, 16 if s20 else 13, letter.asked, sag, titel=f"Spm. om {letter.path[4:20]}",
                 ordlyd=f"Spørgsmål nr. {letter.number} som stillet i de åbne data")
        document(answer_id, 17, letter.dato, sag, titel=f"Svar på spm. {letter.number}", spørgsmålsid=question_id)
        name, party = letter.asker
        link(question_id, actor(name, types["Person"], f"<member><title>{name} ({party})</title></member>"), 6)
        link(question_id, actor(letter.minister, types["Ministertitel"]), 5)
        link(answer_id, actor(letter.by, types["Person"], f"<member><title>{letter.by}</title></member>"), 4)
        link(answer_id, actor(letter.minister, types["Ministertitel"]), 1)
        if letter.udvalg:
            committee = committees[letter.udvalg]["id"]
            link(question_id, committee, 1)
            link(answer_id, committee, 8)
            where = f"samling/{letter.samling}/almdel/{letter.udvalg.lower()}/spm/{letter.number}"
        else:
            where = f"samling/{letter.samling}/spoergsmaal/s{letter.number}"
        answer_file(answer_id, f"{where}/svar/{900 + n}/{2000000 + n}.pdf", pdfs[letter.path])
    for n in range(FILLERS):
        answer_id = 20000 + n
        document(answer_id, 17, f"2020-0{1 + n % 9}-1{n % 10}", sager["FIU"], titel=f"Svar på FIU spm. {n}")
        link(answer_id, committees["FIU"]["id"], 8)
        answer_file(answer_id, f"samling/20191/almdel/fiu/spm/{n + 1}/svar/{5000 + n}/{3000000 + n}.pdf",
                    pdfs["filler"])
    return world


@pytest.fixture
def standin(pdfs: dict[str, bytes]) -> Iterator[tuple[World, str]]:
    world = build_world(pdfs)
    server, api = serve(world)
    files = api.removesuffix("/api") + "/filer"
    for row in world.tables["Fil"]:
        row["filurl"] = row["filurl"].replace("{FILES}", files)
    try:
        yield world, api
    finally:
        server.shutdown()


def _manifest(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "manifest.csv").open(encoding="utf-8") as f:
        return {r["file"]: r for r in csv.DictReader(f)}


def _fetch_suu(api: str, dest: Path, *more: str) -> int:
    return main(["fetch", str(dest), "--udvalg", "SUU", "--fra", "2019-10-01", "--til", "2020-12-31",
                 "--api", api, *FAST, *more])


# ---------------------------------------------------------------------------


def test_a_committee_and_period_fetched_indexed_and_cited_with_the_open_data(
        standin: tuple[World, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world, api = standin
    dest = tmp_path / "corpus"
    assert _fetch_suu(api, dest) == 0
    out = capsys.readouterr().out
    assert "Hentet: 3 · uændrede: 0 · fejlede: 0" in out
    folder = dest / "20191" / "SUU"
    rows = _manifest(folder)
    assert sorted(rows) == ["SUU_1581_oda10005.pdf", "SUU_286_oda10001.pdf", "SUU_782_oda10003.pdf"]
    row = rows["SUU_782_oda10003.pdf"]
    assert (row["udvalg_kode"], row["spm_type"], row["spm_nr"], row["samling"], row["dato"], row["stillet"]) == \
        ("SUU", "alm. del", "782", "20191", "2020-05-29", "2020-03-23")
    assert row["spoerger"] == "Kirsten Normann Andersen (SF)"
    assert row["minister"] == "sundheds- og ældreministeren"
    assert row["besvaret_af"] == "Sundheds- og ældreministeren (Magnus Heunicke)"
    assert (folder / "SUU_782_oda10003.pdf").read_bytes().startswith(b"%PDF-")

    index = tmp_path / "index"
    assert main(["index", str(dest), "--index", str(index), "--model", "hashing", "--quiet"]) == 0
    summary = capsys.readouterr().out
    assert "de åbne data afviger fra teksten (dato); de åbne data er brugt: 20191/SUU/SUU_782_oda10003.pdf" in summary
    assert main(["ask", "spm. nr. 782", "--index", str(index), "--json"]) == 0
    hit = json.loads(capsys.readouterr().out)["hits"][0]
    assert "SUU alm. del spm. 782 · 29-05-2020 · Sundheds- og ældreministeren" in hit["citation"]
    assert hit["document"]["spoerger"] == "Kirsten Normann Andersen (SF)"
    assert hit["document"]["file"] == "20191/SUU/SUU_782_oda10003.pdf"


def test_a_second_run_fetches_nothing(standin: tuple[World, str], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    world, api = standin
    dest = tmp_path / "corpus"
    assert _fetch_suu(api, dest) == 0
    before = {p: p.stat().st_mtime_ns for p in dest.rglob("*.pdf")}
    capsys.readouterr()
    world.log.clear()
    assert _fetch_suu(api, dest) == 0
    assert "Hentet: 0 · uændrede: 3 · fejlede: 0" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in dest.rglob("*.pdf")} == before
    assert not [u for u in world.log if u.startswith("/filer/")], "no file is downloaded again"
    assert not [u for u in world.log if "SagDokument" in u], "nor is what the manifest already says asked again"


def test_pages_follow_the_next_link(standin: tuple[World, str]) -> None:
    world, api = standin
    client = OdaClient(FetchSettings(api=api, pause=0))
    rows = list(client.rows("Dokument", filter="typeid eq 17", orderby="id asc"))
    assert len(rows) == len(LETTERS_SERVED) + FILLERS
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    pages = [u for u in world.log if u.startswith("/api/Dokument?")]
    assert len(pages) == 2 and "$skip=100" in pages[1], pages
    assert client.one("Aktør", 90000)["navn"] == "Liselott Blixt"


def test_time_outs_and_server_errors_are_tried_again(standin: tuple[World, str], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    world, api = standin
    world.slow_seconds = 1.5
    world.slow["/api/Dokumenttype"] = 1  # the first call times out (timeout 1 s)
    world.fail["/api/DokumentAktør"] = 2  # the next two of these get a 500
    world.fail["/filer/"] = 1
    settings = FetchSettings(api=api, pause=0, timeout=1.0, backoff=0.01)
    summary = fetch_answers(tmp_path / "corpus", Wanted(udvalg=("SUU",)), settings, progress=False)
    assert len(summary.fetched) == 3 and not summary.failed
    assert world.slow["/api/Dokumenttype"] == 0 and world.fail["/api/DokumentAktør"] == 0


def test_no_service_is_one_danish_line_and_keeps_what_is_there(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "corpus"
    (dest / "20191").mkdir(parents=True)
    kept = dest / "20191" / "gammel.pdf"
    kept.write_bytes(b"%PDF-1.4 old\n%%EOF")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    code = main(["fetch", str(dest), "--api", f"http://127.0.0.1:{port}/api", *FAST])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert err[0].startswith("Fejl: De åbne data kunne ikke hentes efter 4 forsøg: ingen forbindelse")
    assert kept.read_bytes() == b"%PDF-1.4 old\n%%EOF"


def test_an_html_page_or_a_cut_pdf_is_named_and_never_saved(standin: tuple[World, str], tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    world, api = standin
    files = {r["dokumentid"]: r["filurl"].split("/filer/", 1)[1] for r in world.tables["Fil"]}
    world.html_instead.add(files[10001])  # SUU 286
    world.cut_short.add(files[10003])  # SUU 782
    dest = tmp_path / "corpus"
    assert _fetch_suu(api, dest) == 0, "one answer came through: not a failure of the run"
    out = capsys.readouterr().out
    assert "Hentet: 1 · uændrede: 0 · fejlede: 2" in out
    assert "ikke en PDF: serveren sendte en HTML-side" in out
    assert "PDF'en er afkortet" in out
    names = sorted(p.name for p in (dest / "20191" / "SUU").iterdir())
    assert names == ["SUU_1581_oda10005.pdf", "manifest.csv"], "nothing half or wrong under a final name"
    world.html_instead.clear()
    world.cut_short.clear()
    assert _fetch_suu(api, dest) == 0
    assert "Hentet: 2 · uændrede: 1 · fejlede: 0" in capsys.readouterr().out


def test_nothing_fetched_and_everything_failed_exits_1(standin: tuple[World, str], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    world, api = standin
    for row in world.tables["Fil"]:
        world.html_instead.add(row["filurl"].split("/filer/", 1)[1])
    assert _fetch_suu(api, tmp_path / "corpus") == 1
    assert "Hentet: 0 · uændrede: 0 · fejlede: 3" in capsys.readouterr().out


def test_killed_mid_run_then_resumed(standin: tuple[World, str], tmp_path: Path) -> None:
    world, api = standin
    dest = tmp_path / "corpus"
    world.slow_seconds = 30.0
    second = sorted(r["filurl"].split("/filer/", 1)[1] for r in world.tables["Fil"] if r["dokumentid"] == 10003)[0]
    world.slow["/filer/" + second] = 1  # the run hangs on the second file, and is killed there
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "fetch", str(dest), "--udvalg", "SUU", "--api", api,
                             "--pause", "0", "--timeout", "60", "--quiet"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    manifest = dest / "20191" / "SUU" / "manifest.csv"
    deadline = time.monotonic() + 60
    while not manifest.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    folder = dest / "20191" / "SUU"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == \
        ["SUU_286_oda10001.pdf", "manifest.csv"], "the first file and its manifest, nothing else"
    assert list(_manifest(folder)) == ["SUU_286_oda10001.pdf"]
    summary = fetch_answers(dest, Wanted(udvalg=("SUU",)), FetchSettings(api=api, pause=0), progress=False)
    assert (len(summary.fetched), len(summary.unchanged), summary.failed) == (2, 1, [])
    assert sorted(_manifest(folder)) == ["SUU_1581_oda10005.pdf", "SUU_286_oda10001.pdf", "SUU_782_oda10003.pdf"]
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no temporary file is left"


def test_filters_and_dry_run(standin: tuple[World, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world, api = standin
    dest = tmp_path / "corpus"
    assert main(["fetch", str(dest), "--samling", "20222", "--type", "paragraf-20", "--api", api, *FAST]) == 0
    fetched = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.pdf"))
    assert fetched == ["20222/paragraf-20/S_231_oda10009.pdf"]
    row = _manifest(dest / "20222" / "paragraf-20")["S_231_oda10009.pdf"]
    assert (row["spm_type"], row["s_nr"], row["spoerger"]) == ("§ 20", "S 231", "Morten Messerschmidt (DF)")
    capsys.readouterr()
    assert main(["fetch", str(dest), "--minister", "beskæftigelse", "--dry-run", "--api", api, *FAST]) == 0
    out = capsys.readouterr().out
    assert "Ville hente 1 svar" in out and "20191/BEU/BEU_336_oda10007.pdf" in out
    assert not (dest / "20191").exists(), "a dry run writes nothing"
    assert main(["fetch", str(dest), "--fra", "2020-01-01", "--til", "2020-12-31", "--limit", "5", "--api", api,
                 *FAST]) == 0
    assert "Hentet: 5 ·" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--fra", "i går"], "Ugyldig dato for --fra"),
    (["--fra", "2021-01-01", "--til", "2020-01-01"], "ligger efter --til"),
    (["--samling", "2023"], "fem cifre"),
    (["--limit", "0"], "mindst 1"),
])
def test_bad_options_are_one_danish_line(args: list[str], message: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fetch", str(tmp_path), "--api", "http://127.0.0.1:9/api", *FAST, *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
