from django.urls import path

from calendar_app.views import (
    calendar,
    guidelines,
    home,
    proposals,
    publications,
    publishing,
    reports,
    review,
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
]
