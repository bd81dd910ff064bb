"""URLs of the pages: login/logout (Django's auth views), the sprint list, a sprint's board."""

from django.contrib.auth import views as auth_views
from django.urls import path

from board.pages import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.sprint_list, name="sprint-list"),
    path("sprints/<int:sprint_id>/", views.sprint_board, name="sprint-board"),
]
