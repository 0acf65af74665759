"""One DAG run per school year: the data interval is [July 1, next July 1) in UTC.

SY 2024-25 is [2024-07-01, 2025-07-01); its run starts once the interval is over, and the task
syncs ``data_interval_end.year`` (2025). ``catchup=False`` is honoured after a backfill too:
the next automated run is never older than the latest complete school year.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.timetables.base import DagRunInfo, DataInterval, Timetable, TimeRestriction


def school_year_start(moment: datetime) -> datetime:
    """July 1 (UTC) of the school year ``moment`` falls in."""
    moment = moment.astimezone(timezone.utc)
    year = moment.year if moment.month >= 7 else moment.year - 1
    return datetime(year, 7, 1, tzinfo=timezone.utc)


def _next_year(start: datetime) -> datetime:
    return start.replace(year=start.year + 1)


def _first_start_on_or_after(moment: datetime) -> datetime:
    start = school_year_start(moment)
    return start if start >= moment else _next_year(start)


class SchoolYearTimetable(Timetable):
    description = "one run per school year, July 1 to July 1 (UTC)"
    periodic = True

    @property
    def summary(self) -> str:
        return "school year (Jul 1 - Jul 1)"

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        """A manual run covers the school year it is triggered in."""
        start = school_year_start(run_after)
        return DataInterval(start, _next_year(start))

    def next_dagrun_info(self, *, last_automated_data_interval: DataInterval | None,
                         restriction: TimeRestriction) -> DagRunInfo | None:
        if last_automated_data_interval is not None:
            start = school_year_start(last_automated_data_interval.end)
        elif restriction.earliest is not None:
            start = _first_start_on_or_after(restriction.earliest)
        else:
            return None  # no start_date and nothing run: nothing to schedule
        if not restriction.catchup:
            # Whenever catchup is off, even right after a backfill: skip to the latest complete year.
            current = school_year_start(datetime.now(timezone.utc))
            start = max(start, current.replace(year=current.year - 1))
        if restriction.earliest is not None:
            start = max(start, _first_start_on_or_after(restriction.earliest))
        if restriction.latest is not None and start > restriction.latest:
            return None
        return DagRunInfo.interval(start, _next_year(start))
