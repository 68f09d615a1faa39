from django.urls import path

from calendar_app.views import (
    calendar,
    crisis,
    guidelines,
    home,
    proposals,
    publications,
    publishing,
    reports,
    review,
    translation,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("notifications/", home.notification_list, name="notification_list"),
    path("notifications/read/", home.notifications_read, name="notifications_read"),
    path("notifications/preference/", home.notification_preference, name="notification_preference"),
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("calendar/feed/renew/", calendar.feed_renew, name="calendar_feed_renew"),
    path("calendar/feed/revoke/", calendar.feed_revoke, name="calendar_feed_revoke"),
    path("feeds/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("approvals/", review.approvals, name="approvals"),
    path("approvals/bulk/", review.approvals_bulk, name="approvals_bulk"),
    path("guidelines/", guidelines.guideline_list, name="guidelines"),
    path("guidelines/<slug:code>/edit/", guidelines.guideline_edit, name="guideline_edit"),
    path("publications/new/", publications.publication_new, name="publication_new"),
    path("publications/check/", review.publication_check, name="publication_check"),
    path("publications/publish-now/", publishing.publish_now, name="publish_now"),
    path("deliveries/<int:pk>/record/", publishing.delivery_record, name="delivery_record"),
    path("deliveries/<int:pk>/retry/", publishing.delivery_retry, name="delivery_retry"),
    path("publications/<int:pk>/", publications.publication_detail, name="publication_detail"),
    path(
        "publications/<int:pk>/reschedule/",
        publications.publication_reschedule,
        name="publication_reschedule",
    ),
    path(
        "publications/<int:pk>/duplicate/", publications.publication_duplicate, name="publication_duplicate"
    ),
    path("publications/<int:pk>/comment/", review.publication_comment, name="publication_comment"),
    path(
        "publications/<int:pk>/texts/<str:language>/confirm/",
        translation.confirm_translation,
        name="confirm_translation",
    ),
    # submit, resubmit, approve, request_changes, withdraw, cancel (workflow.TRANSITIONS)
    path(
        "publications/<int:pk>/<slug:action>/", review.publication_transition, name="publication_transition"
    ),
    path("proposals/", proposals.proposal_list, name="proposal_list"),
    path("proposals/new/", proposals.proposal_new, name="proposal_new"),
    path("proposals/<int:pk>/", proposals.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/<slug:action>/", proposals.proposal_action, name="proposal_action"),
    path("network/regional/", proposals.regional_share, name="regional_share"),
    path("network/coverage/", reports.coverage, name="coverage"),
    path("network/coverage/priorities/", reports.priority_countries, name="priority_countries"),
    path("network/activity/", reports.activity, name="activity"),
    path("assets/<int:pk>/<slug:rendition>/", publications.asset_file, name="asset_file"),
    path("crisis/", crisis.crisis_list, name="crisis_list"),
    path("crisis/declare/", crisis.crisis_declare, name="crisis_declare"),
    path("crisis/on-call/", crisis.on_call, name="crisis_on_call"),
    path("crisis/templates/", crisis.template_list, name="crisis_templates"),
    path("crisis/templates/<int:pk>/", crisis.template_list, name="crisis_template_edit"),
    path("crisis/templates/<int:pk>/delete/", crisis.template_delete, name="crisis_template_delete"),
    path("crisis/reviewed/<int:publication_pk>/", crisis.review_after, name="crisis_review_after"),
    path("crisis/<int:pk>/", crisis.crisis_detail, name="crisis_detail"),
    path("crisis/<int:pk>/advisory/", crisis.advisory_compose, name="advisory_compose"),
    path("crisis/<int:pk>/break-glass/", crisis.break_glass, name="break_glass"),
    path("crisis/<int:pk>/release/<int:publication_pk>/", crisis.crisis_release, name="crisis_release"),
    path("crisis/<int:pk>/<slug:action>/", crisis.crisis_action, name="crisis_action"),
    path(
        "channels/<int:channel_id>/test-connection/",
        publishing.channel_test_connection,
        name="channel_test_connection",
    ),
]
