from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from reviews.models import DuplicateGroup, Import, Membership, Record, Review
from reviews.services import REVIEW_EDITABLE_FIELDS


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Review)
class ReviewAdmin(SimpleHistoryAdmin):
    list_display = ["title", "created_by", "created_at", "updated_at"]
    search_fields = ["title"]
    inlines = [MembershipInline]
    readonly_fields = ["created_at", "updated_at", "version"]
    fields = [
        *REVIEW_EDITABLE_FIELDS,
        "created_by",
        "created_at",
        "updated_at",
        "version",
    ]


@admin.register(Import)
class ImportAdmin(SimpleHistoryAdmin):
    list_display = ["source", "filename", "review", "status", "records_added", "duplicates_found", "created_at"]
    list_filter = ["status", "source_kind"]
    readonly_fields = [f.name for f in Import._meta.fields]


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "year", "doi", "review", "batch", "duplicate_of"]
    search_fields = ["title", "doi", "pmid", "registry_id"]
    readonly_fields = [f.name for f in Record._meta.fields]


@admin.register(DuplicateGroup)
class DuplicateGroupAdmin(SimpleHistoryAdmin):
    list_display = ["id", "review", "status", "score", "reason", "decided_by"]
    list_filter = ["status"]
    raw_id_fields = ["primary", "records"]
