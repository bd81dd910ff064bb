"""Sprints and tasks: models, the rules they obey, the service functions that change them, the REST
API and the board events those changes produce."""
