from django.urls import path

from screening import views

app_name = "screening"

urlpatterns = [
    path("<int:review_id>/screening/settings/", views.settings_page, name="settings"),
    path("<int:review_id>/screening/<str:stage>/", views.screen, name="screen"),
    path("<int:review_id>/screening/<str:stage>/decide/", views.decide, name="decide"),
    path("<int:review_id>/screening/<str:stage>/undo/", views.undo, name="undo"),
    path("<int:review_id>/screening/<str:stage>/order/", views.order, name="order"),
    path("<int:review_id>/screening/<str:stage>/mine/", views.mine, name="mine"),
    path("<int:review_id>/screening/<str:stage>/mine/<int:decision_id>/", views.change, name="change"),
    path("<int:review_id>/conflicts/", views.conflicts, name="conflicts"),
    path("<int:review_id>/conflicts/<int:conflict_id>/resolve/", views.resolve, name="resolve"),
    path("<int:review_id>/prisma/", views.prisma, name="prisma"),
    path("<int:review_id>/records/<int:record_id>/fulltext.pdf", views.fulltext, name="fulltext"),
    path("<int:review_id>/records/<int:record_id>/fulltext/", views.fulltext_change, name="fulltext_change"),
]
