"""A small, polite client for the Folketing's open data service (ODA: OData 3.0 at oda.ft.dk/api).

    client = OdaClient(FetchSettings())
    for row in client.rows("Dokument", filter="typeid eq 17 and dato ge datetime'2024-01-01T00:00:00'",
                           expand="Fil"):
        ...

What it relies on is what the service's documentation and every public client show: entity sets
named in Danish (percent-encoded: `Aktør` -> `Akt%C3%B8r`), `$filter`/`$expand`/`$orderby`/`$top`/
`$skip`, a JSON envelope `{"value": [...], "odata.nextLink": "..."}` and at most 100 records a call.
Paging follows `odata.nextLink` when the service sends one, else `$skip` until a short page.

Between two requests it waits `pause` seconds; a time-out, a lost connection or a 5xx answer is
tried again `retries` times after `backoff`, 2 x `backoff`, ... seconds. Anything else (a 4xx, a
body that is not JSON) is a FetchError at once, with one Danish line.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from rag.config import FetchSettings
from rag.errors import FetchError

USER_AGENT = "folketing-rag (rag fetch; https://github.com/) Python-urllib"


class OdaClient:
    """GET requests to one ODA service, with throttling and retries; counts what it sent."""

    def __init__(self, settings: FetchSettings, opener: Callable[..., Any] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.base = settings.api.rstrip("/")
        self._open = opener or urllib.request.urlopen
        self._sleep = sleep
        self._last = 0.0
        self._lock = threading.Lock()
        self.requests = 0  # every request sent, retries included

    # -----------------------------------------------------------------------
    # Records

    def rows(self, entity: str, *, filter: str | None = None, expand: str | None = None,
             orderby: str | None = None, select: str | None = None, limit: int | None = None,
             ) -> Iterator[dict[str, Any]]:
        """Every record of `entity` matching the options, page by page (at most `limit`)."""
        params = {"$format": "json", "$top": str(self.settings.page_size)}
        for key, value in (("$filter", filter), ("$expand", expand), ("$orderby", orderby), ("$select", select)):
            if value:
                params[key] = value
        url = self.url(entity, params)
        seen = 0
        skip = 0
        while url:
            page = self.json(url)
            values = page.get("value")
            if not isinstance(values, list):
                raise FetchError(f"Uventet svar fra de åbne data ({entity}): der mangler en liste af poster.")
            for row in values:
                yield row
                seen += 1
                if limit is not None and seen >= limit:
                    return
            next_link = page.get("odata.nextLink")
            if isinstance(next_link, str) and next_link:
                url = urllib.parse.urljoin(self.base + "/", next_link)
            elif len(values) >= self.settings.page_size:
                skip += len(values)  # no link given: page on by offset until a short page
                url = self.url(entity, {**params, "$skip": str(skip)})
            else:
                url = ""

    def one(self, entity: str, key: int, *, expand: str | None = None) -> dict[str, Any] | None:
        """The record with id `key`, or None when there is none."""
        return next(self.rows(entity, filter=f"id eq {int(key)}", expand=expand, limit=1), None)

    def url(self, entity: str, params: dict[str, str]) -> str:
        query = "&".join(f"{urllib.parse.quote(k, safe='$')}={urllib.parse.quote(v, safe='')}"
                         for k, v in params.items())
        return f"{self.base}/{urllib.parse.quote(entity)}?{query}"

    # -----------------------------------------------------------------------
    # Raw requests

    def json(self, url: str) -> dict[str, Any]:
        body, _ = self.get(url, accept="application/json")
        try:
            data = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise FetchError(f"De åbne data svarede ikke med JSON ({_short(url)}).") from None
        if not isinstance(data, dict):
            raise FetchError(f"De åbne data svarede uventet ({_short(url)}).")
        return data

    def get(self, url: str, accept: str = "*/*") -> tuple[bytes, dict[str, str]]:
        """The body and headers of `url`; retries what may pass, raises FetchError for the rest."""
        attempt = 0
        while True:
            self._wait()
            try:
                request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": accept})
                with self._open(request, timeout=self.settings.timeout) as response:
                    body = response.read()
                    headers = {k.lower(): v for k, v in response.headers.items()}
                    declared = headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) != len(body):
                        raise _Retry(f"svaret blev afbrudt ({len(body)} af {declared} bytes)")
                    return body, headers
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    raise FetchError(f"De åbne data afviste forespørgslen (HTTP {exc.code}): {_short(url)}") from None
                problem = f"serverfejl (HTTP {exc.code})"
            except _Retry as exc:
                problem = str(exc)
            except TimeoutError:
                problem = f"intet svar inden for {self.settings.timeout:g} s"
            except http.client.HTTPException as exc:
                problem = f"svaret blev afbrudt ({type(exc).__name__})"
            except urllib.error.URLError as exc:
                problem = f"ingen forbindelse ({_reason(exc)})"
            except (ConnectionError, OSError) as exc:
                problem = f"forbindelsen blev afbrudt ({type(exc).__name__})"
            if attempt >= self.settings.retries:
                raise FetchError(f"De åbne data kunne ikke hentes efter {attempt + 1} forsøg: {problem} "
                                 f"({_short(url)}).")
            self._sleep(self.settings.backoff * 2 ** attempt)
            attempt += 1

    def _wait(self) -> None:
        with self._lock:
            gap = self.settings.pause - (time.monotonic() - self._last)
            if gap > 0:
                self._sleep(gap)
            self._last = time.monotonic()
            self.requests += 1


class _Retry(Exception):
    """A response that may come right the next time (cut off mid-way)."""


def _reason(exc: urllib.error.URLError) -> str:
    reason = exc.reason
    return str(reason) if not isinstance(reason, BaseException) else type(reason).__name__


def _short(url: str, n: int = 120) -> str:
    url = urllib.parse.unquote(url)
    return url if len(url) <= n else url[: n - 1] + "…"


def datetime_literal(day: Any) -> str:
    """A date as an OData 3 literal: datetime'2024-01-31T00:00:00'."""
    return f"datetime'{day.isoformat()}T00:00:00'"


def string_literal(text: str) -> str:
    """A string as an OData literal: 'Sundheds- og Ældreudvalget' (a quote inside doubled)."""
    return "'" + text.replace("'", "''") + "'"
