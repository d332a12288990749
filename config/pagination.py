"""Cursor pagination for every API list: stable under inserts (no row seen twice or skipped as data
changes between pages), with `next`/`previous` links. Each view names its order (`cursor_ordering`);
lists for incremental sync order by `updated_at` so that a client resumes with `updated_since`."""

from rest_framework.pagination import CursorPagination


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_ordering(self, request, queryset, view):
        return tuple(getattr(view, "cursor_ordering", ("pk",)))
