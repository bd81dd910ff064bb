"""URLs of the REST API, mounted at ``/api/``."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from board.scrum.views import ObtainTokenView, SprintViewSet, TaskViewSet, UserViewSet

router = DefaultRouter()
router.register("sprints", SprintViewSet, basename="sprint")
router.register("tasks", TaskViewSet, basename="task")
router.register("users", UserViewSet, basename="user")

urlpatterns = [
    path("token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
