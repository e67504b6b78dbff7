from django.urls import path

from reviews import views, views_activity, views_records

app_name = "reviews"

urlpatterns = [
    path("", views.review_list, name="list"),
    path("new/", views.review_create, name="create"),
    path("<int:review_id>/", views.review_detail, name="detail"),
    path("<int:review_id>/edit/", views.review_edit, name="edit"),
    path("<int:review_id>/delete/", views.review_delete, name="delete"),
    path("<int:review_id>/members/", views.members, name="members"),
    path("<int:review_id>/activity/", views_activity.activity, name="activity"),
    path("<int:review_id>/members/add/", views.member_add, name="member_add"),
    path("<int:review_id>/members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("<int:review_id>/members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("<int:review_id>/imports/", views_records.imports, name="imports"),
    path("<int:review_id>/imports/<int:import_id>/", views_records.import_detail, name="import_detail"),
    path("<int:review_id>/records/", views_records.records, name="records"),
    path("<int:review_id>/records/<int:record_id>/", views_records.record_detail, name="record_detail"),
    path("<int:review_id>/duplicates/", views_records.duplicates, name="duplicates"),
    path("<int:review_id>/duplicates/<int:group_id>/merge/", views_records.duplicate_merge, name="duplicate_merge"),
    path("<int:review_id>/duplicates/<int:group_id>/split/", views_records.duplicate_split, name="duplicate_split"),
]
