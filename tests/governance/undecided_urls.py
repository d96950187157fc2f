"""A URLconf with one route that declares no permission decision (for the fail-closed tests)."""

from django.http import HttpResponse
from django.urls import include, path


def forgotten(request):
    return HttpResponse("this view should never run")


urlpatterns = [
    path("forgotten", forgotten),
    path("", include("config.urls")),
]
