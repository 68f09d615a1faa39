from django.urls import path

from calendar_app.views import calendar, publications

urlpatterns = [
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("calendar/feed/renew/", calendar.feed_renew, name="calendar_feed_renew"),
    path("calendar/feed/revoke/", calendar.feed_revoke, name="calendar_feed_revoke"),
    path("feeds/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("publications/new/", publications.publication_new, name="publication_new"),
    path("publications/<int:pk>/", publications.publication_detail, name="publication_detail"),
    path(
        "publications/<int:pk>/reschedule/",
        publications.publication_reschedule,
        name="publication_reschedule",
    ),
    path(
        "publications/<int:pk>/duplicate/", publications.publication_duplicate, name="publication_duplicate"
    ),
    path("assets/<int:pk>/<slug:rendition>/", publications.asset_file, name="asset_file"),
]
