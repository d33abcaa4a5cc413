"""Bad input to the knowledge-base sources: the demo content's YAML, Markdown, CSV, xlsx and JSON (served by a real
local HTTP server) mangled by Hypothesis. Every sync either succeeds (the mangling left valid content) or fails with
editor-facing errors naming the file (and the line and field where there is one), never another exception; and a
failed sync leaves the knowledge base already in the database exactly as it was."""

from __future__ import annotations

import hashlib
import io
import shutil
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kb_sync.errors import ContentInvalid
from kb_sync.sources import FolderSource, HttpJsonSource, SpreadsheetSource, export_folder_to_spreadsheet
from kb_sync.sync import sync
from tests.conftest import DEMO_SOURCE
from tests.kb_sources.conftest import JsonServer, content_json

FUZZ = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
KB_TABLES = ("organisation", "place", "opening_hours", "ward", "visiting_rule", "article", "kb_version")
FOLDER_FILES = ["organisation.yml", "places.yml", "wards.yml", *(f"articles/{p.name}" for p in sorted((DEMO_SOURCE / "articles").glob("*.md")))]
CSV_FILES = ["etablissement.csv", "lieux.csv", "services.csv", "articles.csv"]

# What breaks YAML, Markdown front matter, CSV and JSON, plus any character at all.
SYNTAX = list(":-'\"[]{}&*!#|>%@`,;=\t\n\r \\") + ["---", "\n---\n", "\x00", "\ufeff", "é", "😀", "\u202e", "null", "~", "0x1F"]
noise = st.lists(st.sampled_from(SYNTAX) | st.characters(codec="utf-8"), min_size=1, max_size=8).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def mangled(draw, original: bytes) -> bytes:
    """`original` with noise inserted, a span replaced, bytes flipped in place, cut short, or replaced by random bytes."""
    kind = draw(st.sampled_from(["insert", "replace", "flip", "truncate", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    start = draw(st.integers(0, len(original)))
    if kind == "flip":  # same length: a zip's directory still points at its (now damaged) parts
        flipped = bytes(byte ^ draw(st.integers(1, 255)) for byte in original[start : start + draw(st.integers(1, 4))])
        return original[:start] + flipped + original[start + len(flipped) :]
    if kind == "truncate":
        return original[:start]
    end = start if kind == "insert" else draw(st.integers(start, min(len(original), start + 40)))
    return original[:start] + draw(noise).encode("utf-8") + original[end:]


class KnowledgeBase:
    """A database holding the demo knowledge base; `attempt` syncs a source and checks what a failure leaves."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "kb.db"
        self.url = f"sqlite:///{self.path}"
        sync(FolderSource(DEMO_SOURCE), self.url)

    def state(self) -> str:
        connection = sqlite3.connect(self.path)
        try:
            rows = [repr(connection.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()) for table in KB_TABLES]
        finally:
            connection.close()
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()

    def attempt(self, source, names: tuple[str, ...], lines_for_fields: bool = False) -> None:
        before = self.state()
        try:
            sync(source, self.url)
        except ContentInvalid as exc:
            assert self.state() == before, "a failed sync changed the knowledge base"
            assert exc.errors
            for error in exc.errors:
                assert error.source.startswith(names), error
                assert isinstance(error.message, str) and error.message.strip(), error
                assert str(error).startswith(error.source) and "Traceback" not in str(error)
                if error.message.startswith(("YAML mal formé", "JSON invalide")) or (lines_for_fields and error.field):
                    assert error.line is not None, error


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> KnowledgeBase:
    return KnowledgeBase(tmp_path_factory.mktemp("kb"))


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    """The demo content as a CSV folder and as a workbook."""
    folder = tmp_path_factory.mktemp("exports")
    content = FolderSource(DEMO_SOURCE).read()
    export_folder_to_spreadsheet(content, folder / "csv")
    export_folder_to_spreadsheet(content, folder / "valmont.xlsx")
    return folder


@FUZZ
@given(data=st.data(), name=st.sampled_from(FOLDER_FILES))
def test_mangled_yaml_and_markdown(kb: KnowledgeBase, data, name: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "kb"
        shutil.copytree(DEMO_SOURCE, folder)
        (folder / name).write_bytes(data.draw(mangled((DEMO_SOURCE / name).read_bytes())))
        kb.attempt(FolderSource(folder), ("organisation", "places.yml", "wards.yml", "articles"), lines_for_fields=True)


@FUZZ
@given(data=st.data(), name=st.sampled_from(CSV_FILES))
def test_mangled_csv(kb: KnowledgeBase, exports: Path, data, name: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "csv"
        shutil.copytree(exports / "csv", folder)
        (folder / name).write_bytes(data.draw(mangled((exports / "csv" / name).read_bytes())))
        kb.attempt(SpreadsheetSource(folder), tuple(CSV_FILES))


def damaged_part(workbook: Path, data) -> bytes:
    """The workbook with a byte flipped inside one compressed sheet: the workbook opens, the sheet (read lazily) does not."""
    original = workbook.read_bytes()
    with zipfile.ZipFile(workbook) as archive:
        part = data.draw(st.sampled_from([info for info in archive.infolist() if info.filename.startswith("xl/worksheets/")]))
    start = part.header_offset + 30 + len(part.filename.encode()) + len(part.extra)
    position = start + data.draw(st.integers(0, part.compress_size - 1))
    return original[:position] + bytes([original[position] ^ data.draw(st.integers(1, 255))]) + original[position + 1 :]


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_mangled_xlsx_files(kb: KnowledgeBase, exports: Path, data) -> None:
    """Damaged workbooks: bytes flipped or cut (a zip, then XML inside), or not a workbook at all."""
    workbook = exports / "valmont.xlsx"
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "valmont.xlsx"
        path.write_bytes(damaged_part(workbook, data) if data.draw(st.booleans()) else data.draw(mangled(workbook.read_bytes())))
        kb.attempt(SpreadsheetSource(path), ("valmont.xlsx",))


cells = st.none() | st.text(max_size=30) | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False) | st.booleans() | st.dates() | st.times()


@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_workbooks_with_odd_cells(kb: KnowledgeBase, exports: Path, data) -> None:
    """Well-formed workbooks whose cells (headers included) hold any type Excel can store."""
    workbook = openpyxl.load_workbook(exports / "valmont.xlsx")
    for _ in range(data.draw(st.integers(1, 4))):
        sheet = workbook.worksheets[data.draw(st.integers(0, len(workbook.worksheets) - 1))]
        row, column = data.draw(st.integers(1, sheet.max_row + 1)), data.draw(st.integers(1, sheet.max_column + 1))
        value = data.draw(cells)
        if isinstance(value, str):
            value = "".join(ch for ch in value if ch.isprintable())  # what openpyxl can write
        sheet.cell(row=row, column=column, value=value)
    if data.draw(st.booleans()):
        sheet = workbook.worksheets[data.draw(st.integers(0, len(workbook.worksheets) - 1))]
        sheet.title = data.draw(st.sampled_from(["Feuille1", "lieux ", "ARTICLES", "services2"]))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "valmont.xlsx"
        buffer = io.BytesIO()
        workbook.save(buffer)
        path.write_bytes(buffer.getvalue())
        kb.attempt(SpreadsheetSource(path), ("valmont.xlsx",))


@pytest.fixture(scope="module")
def cms():
    server = JsonServer()
    server.start()
    yield server
    server.stop()


@st.composite
def json_documents(draw, demo: dict) -> bytes:
    """The demo document mangled as text, with one value swapped for any JSON, or any JSON at all."""
    kind = draw(st.sampled_from(["text", "value", "any"]))
    if kind == "text":
        return draw(mangled(content_json(demo)))
    if kind == "any":
        return content_json(draw(json_values))
    document = {key: value for key, value in demo.items()}
    key = draw(st.sampled_from(sorted(document) + ["autre"]))
    target = document.get(key)
    if isinstance(target, list) and target and draw(st.booleans()):
        index = draw(st.integers(0, len(target) - 1))
        item = dict(target[index])
        item[draw(st.sampled_from(sorted(item) + ["inconnu"]))] = draw(json_values)
        document[key] = [*target[:index], item, *target[index + 1 :]]
    else:
        document[key] = draw(json_values)
    return content_json(document)


@pytest.fixture(scope="module")
def demo_document() -> dict:
    return FolderSource(DEMO_SOURCE).read().dict()


@FUZZ
@given(data=st.data())
def test_bad_json_from_the_http_source(kb: KnowledgeBase, cms: JsonServer, demo_document: dict, data) -> None:
    cms.body = data.draw(json_documents(demo_document))
    with tempfile.TemporaryDirectory() as cache:
        kb.attempt(HttpJsonSource(cms.url, Path(cache), allow_http=True, retries=0), (cms.url,))
