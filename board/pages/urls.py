"""URLs of the pages: login/logout (Django's auth views; login with the limits of ``login``), the
sprint list, a sprint's board."""

from django.contrib.auth import views as auth_views
from django.urls import path

from board.pages import views
from board.pages.login import LoginForm, answer_throttled

login = answer_throttled(auth_views.LoginView.as_view(authentication_form=LoginForm))

urlpatterns = [
    path("login/", login, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.sprint_list, name="sprint-list"),
    path("sprints/<int:sprint_id>/", views.sprint_board, name="sprint-board"),
]
