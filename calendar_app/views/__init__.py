"""Views of the calendar app, one module per page family."""
