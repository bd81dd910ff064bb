"""The API's JSON parser: DRF's, refusing JSON nested too deeply with a 400.

Python's JSON decoder recurses once per level of nesting; a body of 100,000 ``[`` runs out of
stack and raises ``RecursionError``, which DRF's parser (catching ``ValueError``) lets through as
a 500, to anyone, before any login. Here it is a parse error like any other.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as DrfJSONParser

NESTED_TOO_DEEPLY = "JSON nested too deeply."


class JSONParser(DrfJSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(NESTED_TOO_DEEPLY) from None
