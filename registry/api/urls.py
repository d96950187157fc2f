"""Warden's own registry API, mounted under /api/v1/registry/."""

from django.urls import path

from registry.api import views

urlpatterns = [
    path("models/<str:name>/protection", views.ProtectionView.as_view()),
    path("models/<str:name>/versions/<str:version>/restore", views.VersionRestoreView.as_view()),
    path("deleted-models/<int:pk>/restore", views.ModelRestoreView.as_view()),
    path("transition-requests", views.TransitionRequestListView.as_view()),
    path("transition-requests/<int:pk>", views.TransitionRequestDetailView.as_view()),
    path("transition-requests/<int:pk>/approve", views.DecisionView.as_view(decision="approve")),
    path("transition-requests/<int:pk>/reject", views.DecisionView.as_view(decision="reject")),
    path("transition-requests/<int:pk>/cancel", views.DecisionView.as_view(decision="cancel")),
]
