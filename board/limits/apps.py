from django.apps import AppConfig


class LimitsConfig(AppConfig):
    name = "board.limits"
    label = "limits"
    verbose_name = "Request limits"
