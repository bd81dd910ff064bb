"""App configuration: connects the model signals that turn saves into board events."""

from django.apps import AppConfig


class ScrumConfig(AppConfig):
    name = "board.scrum"
    label = "scrum"
    verbose_name = "Scrum board"

    def ready(self) -> None:
        from board.scrum import events

        events.connect()
