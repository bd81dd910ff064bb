"""The HTML pages: login, the sprint list with "add sprint", and the sprint board."""
