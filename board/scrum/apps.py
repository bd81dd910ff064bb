"""App configuration: connects the model signals that turn saves into board events, and registers
the board's deploy checks (``board.checks``)."""

from django.apps import AppConfig


class ScrumConfig(AppConfig):
    name = "board.scrum"
    label = "scrum"
    verbose_name = "Scrum board"

    def ready(self) -> None:
        from board import checks  # noqa: F401 (registers them)
        from board.scrum import events

        events.connect()
