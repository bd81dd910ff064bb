"""The login pages (``/login/`` and ``/admin/login/``) with the limits on password guessing.

The forms count each attempt before checking the password (``board.limits.logins``: per address,
then per username, out of the counts ``/api/token/`` uses) and take it back when the password was
right, so only failed logins count. Counting first means simultaneous guesses cannot all slip in
before the first is counted. Over a limit the password is not checked: the form says when to try
again, and :func:`answer_throttled` makes that answer a 429 with ``Retry-After``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse

from board.limits import logins


class LimitedLogin(forms.Form):
    """Counts the login attempt around the authentication form's own ``clean``."""

    request: HttpRequest | None
    retry_after: int | None = None

    def clean(self) -> dict[str, Any]:
        meta = self.request.META if self.request is not None else {}
        attempt = logins.count_attempt(meta, self.cleaned_data.get("username"))
        if not attempt.allowed:
            self.retry_after = attempt.wait
            raise forms.ValidationError(logins.refusal(attempt.wait), code="throttled")
        cleaned: dict[str, Any] = super().clean() or {}  # raises on a wrong password
        logins.take_back(attempt)
        return cleaned


class LoginForm(LimitedLogin, AuthenticationForm):
    """The form of ``/login/``."""


class AdminLoginForm(LimitedLogin, AdminAuthenticationForm):
    """The form of ``/admin/login/``."""


def answer_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``view`` (a login view), answering 429 with ``Retry-After`` when its form refused the
    attempt for being over a limit."""

    @functools.wraps(view)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        context = getattr(response, "context_data", None) or {}
        wait = getattr(context.get("form"), "retry_after", None)
        if wait is not None:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response

    return limited
