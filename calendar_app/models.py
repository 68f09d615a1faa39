"""The calendar's models (publications, campaigns, reviews, ...) arrive with the calendar issue."""
