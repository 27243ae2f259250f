"""Parsers that enforce DATA_UPLOAD_MAX_MEMORY_SIZE (DRF reads the raw stream, so Django's
own limit does not apply to JSON bodies)."""

from django.conf import settings
from rest_framework import parsers

from .exceptions import RequestTooLarge


def check_size(parser_context):
    request = (parser_context or {}).get("request")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request is None or limit is None:
        return
    meta = request.META
    try:
        length = int(meta.get("CONTENT_LENGTH") or meta.get("HTTP_CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        length = 0
    if length > limit:
        raise RequestTooLarge()


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        check_size(parser_context)
        return super().parse(stream, media_type, parser_context)


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        check_size(parser_context)
        return super().parse(stream, media_type, parser_context)
