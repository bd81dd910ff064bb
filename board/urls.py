"""The board's URLs: the pages at the root, the REST API under /api/, the admin under /admin/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("board.scrum.api_urls")),
    path("", include("board.pages.urls")),
]
