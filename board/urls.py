"""The board's URLs: the pages at the root, the REST API under /api/, the admin under /admin/.

The admin's login page is the admin's own view with the limits on password guessing
(``board.pages.login``), mounted before the rest of the admin so that it answers /admin/login/.
"""

from django.contrib import admin
from django.urls import include, path

from board.pages.login import AdminLoginForm, answer_throttled

admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("admin/login/", answer_throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    path("api/", include("board.scrum.api_urls")),
    path("", include("board.pages.urls")),
]
