from django.urls import path

from screening import api

urlpatterns = [
    path("reviews/<int:review_pk>/screening/settings/", api.SettingsView.as_view(), name="api-screening-settings"),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/next/", api.NextRecordView.as_view(), name="api-screening-next"
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/decisions/",
        api.DecisionListView.as_view(),
        name="api-decision-list",
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/decisions/<int:pk>/",
        api.DecisionDetailView.as_view(),
        name="api-decision-detail",
    ),
    path(
        "reviews/<int:review_pk>/screening/<str:stage>/agreement/",
        api.AgreementView.as_view(),
        name="api-screening-agreement",
    ),
    path("reviews/<int:review_pk>/conflicts/", api.ConflictListView.as_view(), name="api-conflict-list"),
    path(
        "reviews/<int:review_pk>/conflicts/<int:pk>/resolve/",
        api.ConflictResolveView.as_view(),
        name="api-conflict-resolve",
    ),
    path("reviews/<int:review_pk>/records/<int:record_pk>/fulltext/", api.FullTextView.as_view(), name="api-fulltext"),
    path(
        "reviews/<int:review_pk>/records/<int:record_pk>/fulltext.pdf",
        api.FullTextPdfView.as_view(),
        name="api-fulltext-pdf",
    ),
    path("reviews/<int:review_pk>/prisma/", api.PrismaView.as_view(), name="api-prisma"),
    path("reviews/<int:review_pk>/prisma.svg", api.PrismaSvgView.as_view(), name="api-prisma-svg"),
]
