from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "board.pages"
    label = "pages"
