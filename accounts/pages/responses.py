"""Answers the pages share: a page holding a secret, and "done, back to the list"."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse


def secret_response(response):
    """A page that shows a new token's secret is never cached (not by the browser either)."""
    response["Cache-Control"] = "no-store"
    return response


def done(request, message: str, url_name: str, *args):
    """After a successful POST: say what happened, then back to the page (POST-redirect-GET)."""
    messages.success(request, message)
    return redirect(reverse(url_name, args=args))
