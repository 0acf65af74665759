"""Airflow timetables of the sync (registered by :mod:`edfi_sync.plugin`)."""

from .school_year import SchoolYearTimetable

__all__ = ["SchoolYearTimetable"]
