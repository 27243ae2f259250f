"""Django admin: every write goes through the same services as the app and the API."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    AccessLog,
    Affiliation,
    ConfirmationReminder,
    ConsentRecord,
    EditorInvitation,
    Event,
    EventSession,
    FocusArea,
    Interaction,
    Invitation,
    InvitationStatusChange,
    Organisation,
    OrganisationEditor,
    OrganisationIdentifier,
    Person,
    ProfileChange,
    SuppressionEntry,
    Team,
    TeamMembership,
)
from .services import events as event_services
from .services import organisations as org_services
from .services import people as people_services
from .services import privacy as privacy_services
from .services import self_service as self_service_services


def _form_data(form, allowed, exclude=()):
    return {
        name: form.cleaned_data[name]
        for name in form.changed_data
        if name in allowed and name not in exclude and name in form.cleaned_data
    }


class IdentifierInline(admin.TabularInline):
    model = OrganisationIdentifier
    extra = 0


class AffiliationInline(admin.TabularInline):
    model = Affiliation
    extra = 0
    autocomplete_fields = ["person"]
    fields = ["person", "role", "is_primary", "start_date", "end_date"]


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "acronym", "country", "city", "type", "visibility", "status", "verified", "updated_at"]
    list_filter = ["country", "type", "visibility", "status", "verified", "focus_areas"]
    search_fields = ["name", "name_local", "acronym", "search_key"]
    filter_horizontal = ["focus_areas"]
    readonly_fields = ["verified_by", "verified_at", "created_at", "updated_at"]
    inlines = [IdentifierInline, AffiliationInline]
    fieldsets = [
        (None, {"fields": ["name", "name_local", "other_names", "acronym", "type", "country", "city"]}),
        (_("Public contact"), {"fields": ["website", "email", "phone", "languages", "founded_year", "description", "focus_areas"]}),
        (_("Internal"), {"fields": ["visibility", "status", "verified", "verified_by", "verified_at", "confirmed_at", "internal_notes", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        return Organisation.objects.visible_to(request.user)

    def save_model(self, request, obj, form, change):
        data = _form_data(form, org_services.ORGANISATION_FIELDS)
        verified = form.cleaned_data.get("verified") if "verified" in form.changed_data else None
        areas = [fa.slug for fa in form.cleaned_data.get("focus_areas", [])]
        if change:
            original = Organisation.objects.get(pk=obj.pk)
            form.instance = org_services.organisation_update(
                actor=request.user, organisation=original, data=data, focus_areas=areas, verified=verified
            )
        else:
            form.instance = org_services.organisation_create(
                actor=request.user, data=data, focus_areas=areas, verified=bool(verified)
            )
        obj.pk = form.instance.pk

    def save_related(self, request, form, formsets, change):
        # Focus areas were set by the service; inlines save through their model validation.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        org_services.organisation_delete(actor=request.user, organisation=obj)


class PersonAdminForm(forms.ModelForm):
    """Shows the services' suppression rule as a field error instead of failing on save."""

    class Meta:
        model = Person
        fields = sorted(people_services.PERSON_FIELDS)

    def clean(self):
        data = super().clean()
        try:
            privacy_services.ensure_not_suppressed(
                email=data.get("email") if "email" in self.changed_data else None,
                phone=data.get("phone") if "phone" in self.changed_data else None,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field, errors)
        return data


class ConsentRecordInline(admin.TabularInline):
    """The consent log of a person: read-only (recorded from the person page, services.privacy)."""

    model = ConsentRecord
    extra = 0
    fields = ["recorded_at", "action", "purposes", "method", "recorded_by", "note"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and (
            request.user.is_superuser or request.user.has_perm("directory.view_person")
        )


@admin.register(Person)
class PersonAdmin(SimpleHistoryAdmin):
    inlines = [ConsentRecordInline]
    form = PersonAdminForm
    list_display = ["name", "position", "email", "sensitivity", "do_not_contact", "updated_at"]
    list_filter = ["sensitivity", "do_not_contact", "gender"]
    search_fields = ["name", "name_local", "email", "search_key"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return Person.objects.visible_to(request.user)

    def save_model(self, request, obj, form, change):
        data = _form_data(form, people_services.PERSON_FIELDS)
        if change:
            original = Person.objects.get(pk=obj.pk)
            form.instance = people_services.person_update(actor=request.user, person=original, data=data)
        else:
            form.instance = people_services.person_create(actor=request.user, data=data)
        obj.pk = form.instance.pk

    def delete_model(self, request, obj):
        people_services.person_delete(actor=request.user, person=obj)


@admin.register(Affiliation)
class AffiliationAdmin(SimpleHistoryAdmin):
    list_display = ["person", "organisation", "role", "is_primary", "start_date", "end_date"]
    list_filter = ["is_primary"]
    autocomplete_fields = ["person", "organisation"]
    search_fields = ["person__name", "organisation__name"]

    def save_model(self, request, obj, form, change):
        data = _form_data(form, people_services.AFFILIATION_FIELDS)
        if change:
            original = Affiliation.objects.get(pk=obj.pk)
            form.instance = people_services.affiliation_update(actor=request.user, affiliation=original, data=data)
        else:
            form.instance = people_services.affiliation_create(actor=request.user, data=data)
        obj.pk = form.instance.pk

    def delete_model(self, request, obj):
        people_services.affiliation_delete(actor=request.user, affiliation=obj)


@admin.register(FocusArea)
class FocusAreaAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "name_ru", "parent", "position"]
    readonly_fields = ["slug"]

    def has_delete_permission(self, request, obj=None):
        return False  # slugs are part of the API contract

    def has_add_permission(self, request):
        return False


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "countries"]
    search_fields = ["name"]
    inlines = [TeamMembershipInline]


@admin.register(OrganisationEditor)
class OrganisationEditorAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "created_at"]
    autocomplete_fields = ["user", "organisation"]
    search_fields = ["user__username", "organisation__name"]

    def delete_model(self, request, obj):
        self_service_services.editor_revoke(actor=request.user, link=obj)

    def delete_queryset(self, request, queryset):
        for link in queryset:
            self_service_services.editor_revoke(actor=request.user, link=link)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the self-service pages and services; the admin only shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProfileChange)
class ProfileChangeAdmin(ReadOnlyAdmin):
    """Read-only: proposals are reviewed on the moderation page ("View on site"), where the
    diff is shown side by side and approval goes through services.self_service."""

    list_display = ["created_at", "organisation", "author", "status", "reviewed_by", "reviewed_at"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["organisation", "author", "reviewed_by"]
    search_fields = ["organisation__name", "author__username"]
    date_hierarchy = "created_at"
    fields = ["organisation", "author", "created_at", "status", "changes", "reason", "reviewed_by", "reviewed_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            pk__in=ProfileChange.objects.visible_to(request.user).values("pk")
        )

    @admin.display(description=_("changes"))
    def changes(self, obj):
        rows = {
            key: {"old": entry.get("old"), "new": entry.get("new"), "decision": obj.decisions.get(key, "")}
            for key, entry in obj.diff.items()
        }
        return json.dumps(rows, ensure_ascii=False, indent=1)


@admin.register(EditorInvitation)
class EditorInvitationAdmin(admin.ModelAdmin):
    """Invite through services.self_service.editor_invite (hashed token, 7 days, email on
    commit); revoke with the list action. The token hash is never shown."""

    list_display = ["created_at", "email", "organisation", "created_by", "expires_at", "used_at", "revoked_at"]
    list_filter = [("created_at", admin.DateFieldListFilter)]
    list_select_related = ["organisation", "created_by"]
    search_fields = ["email", "organisation__name"]
    autocomplete_fields = ["organisation"]
    actions = ["revoke"]
    readonly_fields = ["created_by", "created_at", "expires_at", "used_at", "revoked_at", "user"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            organisation__in=Organisation.objects.visible_to(request.user).values("pk")
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organisation", "email"]
        return ["organisation", "email", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["organisation", "email", *self.readonly_fields]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs["queryset"] = Organisation.objects.editable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return False  # an invitation is sent, then used or revoked; never edited

    def has_delete_permission(self, request, obj=None):
        return False  # kept as the record of who was invited; revoke instead

    def save_model(self, request, obj, form, change):
        invitation, _token = self_service_services.editor_invite(
            actor=request.user, organisation=form.cleaned_data["organisation"], email=form.cleaned_data["email"]
        )
        form.instance = invitation
        obj.pk = invitation.pk

    @admin.action(description=_("Revoke the selected invitations"))
    def revoke(self, request, queryset):
        revoked = 0
        for invitation in queryset:
            if invitation.is_open:
                self_service_services.invitation_revoke(actor=request.user, invitation=invitation)
                revoked += 1
        self.message_user(
            request,
            ngettext("%(count)d invitation revoked.", "%(count)d invitations revoked.", revoked) % {"count": revoked},
            messages.SUCCESS,
        )


@admin.register(ConfirmationReminder)
class ConfirmationReminderAdmin(ReadOnlyAdmin):
    """Read-only: reminders are sent from the profile-freshness page (emails on commit)."""

    list_display = ["sent_at", "organisation", "sent_by", "recipients"]
    list_filter = [("sent_at", admin.DateFieldListFilter)]
    list_select_related = ["organisation", "sent_by"]
    search_fields = ["organisation__name"]
    date_hierarchy = "sent_at"
    fields = ["organisation", "sent_at", "sent_by", "recipients"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            organisation__in=Organisation.objects.visible_to(request.user).values("pk")
        )


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only for everyone, administrators included: the log is evidence."""

    list_display = ["at", "username", "action", "object_type", "object_id", "rows", "via", "request_id"]
    list_filter = ["action", "via", "object_type", ("at", admin.DateFieldListFilter)]
    search_fields = ["username", "object_id", "request_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """Read-only: consent is recorded from the person page (services.privacy.consent_record)."""

    list_display = ["recorded_at", "person", "action", "method", "recorded_by"]
    list_filter = ["action", "method", ("recorded_at", admin.DateFieldListFilter)]
    list_select_related = ["person", "recorded_by"]
    fields = ["person", "action", "purposes", "method", "recorded_at", "recorded_by", "note"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            person__in=Person.objects.visible_to(request.user).values("pk")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SuppressionEntry)
class SuppressionEntryAdmin(admin.ModelAdmin):
    """Hashes of erased contacts: administrators may look, nobody may edit from the app."""

    list_display = ["created_at", "kind", "value_hash"]
    list_filter = ["kind"]
    fields = ["kind", "value_hash", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    """Metadata only: content is read and written on the contact-history pages, where the
    compartments (team / named participants) are enforced, administrators included."""

    list_display = ["occurred_on", "kind", "team", "author", "sensitivity", "follow_up_due", "follow_up_done"]
    list_filter = ["kind", "sensitivity", "team", "follow_up_done"]
    date_hierarchy = "occurred_on"
    list_select_related = ["team", "author"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from django.shortcuts import redirect

        return redirect("directory:interaction_detail", pk=object_id)


class EventSessionInline(admin.TabularInline):
    model = EventSession
    extra = 0


@admin.register(Event)
class EventAdmin(SimpleHistoryAdmin):
    """Events are written through the events service (team and targets checked there)."""

    list_display = ["name", "starts_on", "city", "country", "capacity", "team"]
    list_filter = ["country", "team"]
    search_fields = ["name", "city"]
    date_hierarchy = "starts_on"
    list_select_related = ["team"]
    inlines = [EventSessionInline]

    def get_queryset(self, request):
        return Event.objects.visible_to(request.user)

    def save_model(self, request, obj, form, change):
        data = _form_data(form, event_services.EVENT_FIELDS)
        if change:
            original = Event.objects.get(pk=obj.pk)
            form.instance = event_services.event_update(actor=request.user, event=original, data=data)
        else:
            form.instance = event_services.event_create(actor=request.user, data=data)
        obj.pk = form.instance.pk


class StatusChangeInline(admin.TabularInline):
    model = InvitationStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "changed_by", "changed_at", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(SimpleHistoryAdmin):
    """Read-only here: status changes need the waitlist and attendance rules of the service,
    so they are made on the event page or through the API."""

    list_display = ["person", "organisation", "event", "status", "added_at"]
    list_filter = ["status", "event"]
    list_select_related = ["person", "organisation", "event"]
    inlines = [StatusChangeInline]

    def get_queryset(self, request):
        return Invitation.objects.visible_to(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
