"""A local stand-in for the Folketing's open data service (oda.ft.dk/api), for the `rag fetch` tests.

It answers as the service is documented to (the ODA documentation pages and the public clients of
the service; what is documented only, not seen, is listed in tests/test_fetch.py):
OData 3.0 JSON `{"odata.metadata": …, "value": [...], "odata.nextLink": …}`, at most 100 records a
call, `$filter` (eq ne gt ge lt le, and/or/not, parentheses, 'strings', datetime'…' literals, null,
substringof(), year()), `$expand` (one level or `A/B`, navigation by the entities' id fields),
`$orderby`, `$top`, `$skip`, `$inlinecount=allpages` (a string count), `Set(id)` keys, percent-encoded
Danish names (`Akt%C3%B8r`), a 404 HTML page for an unknown set. Files are served from `/filer/…`.

Faults for the tests: the first N requests of a path time out or get a 500; a file may come as an
HTML error page or cut short; every request is logged.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAGE = 100


@dataclass
class World:
    """The records and files the stand-in serves, and the faults it plays."""

    tables: dict[str, list[dict[str, Any]]]
    files: dict[str, bytes] = field(default_factory=dict)  # path under /filer/ -> bytes
    html_instead: set[str] = field(default_factory=set)  # file paths answered with an HTML error page
    cut_short: set[str] = field(default_factory=set)  # file paths sent only half (with a matching length)
    fail: dict[str, int] = field(default_factory=dict)  # path prefix -> number of 500s still to send
    slow: dict[str, int] = field(default_factory=dict)  # path prefix -> number of slow answers still to send
    slow_seconds: float = 3.0
    log: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, faults: dict[str, int], path: str) -> bool:
        with self.lock:
            for prefix, left in faults.items():
                if left > 0 and path.startswith(prefix):
                    faults[prefix] = left - 1
                    return True
        return False


def serve(world: World) -> tuple[ThreadingHTTPServer, str]:
    """Start the stand-in on a free local port; returns the server and its API base address."""
    class Handler(_Handler):
        pass

    Handler.world = world
    server = _QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}/api"


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer (the kill test) is expected: no traceback on stderr, which
        would land in whatever test runs then."""


class _Handler(BaseHTTPRequestHandler):
    world: World

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        world = self.world
        raw_path, _, query = self.path.partition("?")
        path = urllib.parse.unquote(raw_path)
        world.log.append(urllib.parse.unquote(self.path))
        if world.take(world.slow, path):
            time.sleep(world.slow_seconds)
        if world.take(world.fail, path):
            return self._send(500, b'{"odata.error":{"message":{"value":"Internal error"}}}', "application/json")
        if path.startswith("/filer/"):
            return self._file(path[len("/filer/"):])
        m = re.fullmatch(r"/api/([^/()]+)(?:\((\d+)\))?", path)
        if not m or m[1] not in world.tables:
            return self._send(404, b"<html><body><h1>404 - File or directory not found.</h1></body></html>",
                              "text/html")
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        try:
            body = self._query(m[1], int(m[2]) if m[2] else None, {k: v[-1] for k, v in params.items()},
                               raw_path, query)
        except _BadQuery as exc:
            return self._send(400, json.dumps({"odata.error": {"code": "", "message": {
                "lang": "en-US", "value": str(exc)}}}).encode(), "application/json")
        self._send(200, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json;odata=minimalmetadata")

    def _file(self, name: str) -> None:
        world = self.world
        if name in world.html_instead:
            return self._send(200, b"<!DOCTYPE html><html><head><title>Fejl</title></head><body>"
                                   b"<p>Siden kunne ikke vises.</p></body></html>", "text/html; charset=utf-8")
        data = world.files.get(name)
        if data is None:
            return self._send(404, b"<html><body>404</body></html>", "text/html")
        if name in world.cut_short:
            data = data[: len(data) // 2]
        self._send(200, data, "application/pdf")

    def _send(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _query(self, entity: str, key: int | None, params: dict[str, str], raw_path: str, query: str
               ) -> dict[str, Any]:
        rows = list(self.world.tables[entity])
        if key is not None:
            rows = [r for r in rows if r.get("id") == key]
        if params.get("$filter"):
            test = parse_filter(params["$filter"])
            rows = [r for r in rows if test(r)]
        for part in reversed([p.strip() for p in params.get("$orderby", "").split(",") if p.strip()]):
            name, _, direction = part.partition(" ")
            rows.sort(key=lambda r: (r.get(name) is None, r.get(name)), reverse=direction.strip() == "desc")
        total = len(rows)
        skip = int(params.get("$skip") or 0)
        top = min(int(params.get("$top") or PAGE), PAGE)
        page = [dict(r) for r in rows[skip:skip + top]]
        for path in [p.strip() for p in params.get("$expand", "").split(",") if p.strip()]:
            for row in page:
                self._expand(entity, row, path.split("/"))
        body: dict[str, Any] = {"odata.metadata": f"http://127.0.0.1/api/$metadata#{entity}", "value": page}
        if params.get("$inlinecount") == "allpages":
            body["odata.count"] = str(total)
        if skip + top < total:
            rest = [p for p in query.split("&") if not p.startswith(("$skip=", "%24skip="))]
            host, port = self.server.server_address[:2]
            body["odata.nextLink"] = f"http://{host}:{port}{raw_path}?{'&'.join(rest + [f'$skip={skip + top}'])}"
        return body

    def _expand(self, entity: str, row: dict[str, Any], path: list[str]) -> None:
        tables = self.world.tables
        name = path[0]
        if name not in tables:
            raise _BadQuery(f"Could not find a property named '{name}' on type 'FT.Domain.Models.{entity}'.")
        own_key = f"{entity.lower()}id"
        link_key = f"{name.lower()}id"
        if link_key in row:  # to one: DokumentAktør.aktørid -> Aktør
            target = next((dict(r) for r in tables[name] if r.get("id") == row[link_key]), None)
            if target is not None and len(path) > 1:
                self._expand(name, target, path[1:])
            row[name] = target
        else:  # to many: Dokument -> Fil (Fil.dokumentid)
            children = [dict(r) for r in tables[name] if r.get(own_key) == row.get("id")]
            for child in children:
                if len(path) > 1:
                    self._expand(name, child, path[1:])
            row[name] = children


class _BadQuery(Exception):
    pass


# ---------------------------------------------------------------------------
# $filter: a small OData 3 expression parser

_TOKEN = re.compile(r"\s*(?:(?P<dt>datetime'[^']*')|(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|"
                    r"(?P<op>[(),])|(?P<word>[\wæøåÆØÅ./]+))")


def parse_filter(text: str) -> Callable[[dict[str, Any]], bool]:
    tokens = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise _BadQuery(f"Syntax error at position {pos} in '{text}'.")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)  # type: ignore[arg-type]
        if kind == "dt":
            value = datetime.fromisoformat(value[9:-1])
        elif kind == "str":
            value = value[1:-1].replace("''", "'")
        elif kind == "num":
            value = float(value) if "." in value else int(value)
        tokens.append((kind, value))
    parser = _Parser(tokens)
    expr = parser.expr()
    if parser.i != len(tokens):
        raise _BadQuery(f"Syntax error in '{text}'.")
    return lambda row: bool(expr(row))


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens, self.i = tokens, 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        if token is None:
            raise _BadQuery("Unexpected end of $filter.")
        self.i += 1
        return token

    def expr(self) -> Callable[[dict[str, Any]], Any]:
        left = self.conj()
        while self.peek() == ("word", "or"):
            self.take()
            right, before = self.conj(), left
            left = lambda r, a=before, b=right: a(r) or b(r)  # noqa: E731
        return left

    def conj(self) -> Callable[[dict[str, Any]], Any]:
        left = self.comparison()
        while self.peek() == ("word", "and"):
            self.take()
            right, before = self.comparison(), left
            left = lambda r, a=before, b=right: a(r) and b(r)  # noqa: E731
        return left

    def comparison(self) -> Callable[[dict[str, Any]], Any]:
        if self.peek() == ("word", "not"):
            self.take()
            inner = self.comparison()
            return lambda r: not inner(r)
        left = self.value()
        token = self.peek()
        if token and token[0] == "word" and token[1] in _OPS:
            self.take()
            right = self.value()
            op = _OPS[token[1]]
            return lambda r: _compare(op, left(r), right(r))
        return left

    def value(self) -> Callable[[dict[str, Any]], Any]:
        kind, value = self.take()
        if kind == "op" and value == "(":
            inner = self.expr()
            self.take()
            return inner
        if kind in ("str", "num", "dt"):
            return lambda r: value
        if kind == "word" and value == "null":
            return lambda r: None
        if kind == "word" and value in ("true", "false"):
            return lambda r: value == "true"
        if kind == "word" and self.peek() == ("op", "("):
            self.take()
            args = [self.value()]
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.value())
            self.take()
            return _function(value, args)
        if kind == "word":
            return lambda r: _field(r, value)
        raise _BadQuery(f"Unexpected '{value}' in $filter.")


_OPS = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
        "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}


def _compare(op: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    if isinstance(b, datetime) and isinstance(a, str):
        a = datetime.fromisoformat(a)
    if isinstance(a, datetime) and isinstance(b, str):
        b = datetime.fromisoformat(b)
    if op not in (_OPS["eq"], _OPS["ne"]) and (a is None or b is None):
        return False
    return op(a, b)


def _field(row: dict[str, Any], name: str) -> Any:
    value: Any = row
    for part in name.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _function(name: str, args: list[Callable[[dict[str, Any]], Any]]) -> Callable[[dict[str, Any]], Any]:
    if name == "substringof" and len(args) == 2:
        return lambda r: str(args[0](r) or "") in str(args[1](r) or "")
    if name == "tolower" and len(args) == 1:
        return lambda r: str(args[0](r) or "").lower()
    if name == "year" and len(args) == 1:
        return lambda r: datetime.fromisoformat(args[0](r)).year if args[0](r) else None
    raise _BadQuery(f"Unknown function '{name}'.")
