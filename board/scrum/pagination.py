"""Page-number pagination with ``count``, ``next``, ``previous`` and ``results``.

``page_size`` may be asked for up to 500, so the board page can load a whole sprint at once.
"""

from rest_framework.pagination import PageNumberPagination


class BoardPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
