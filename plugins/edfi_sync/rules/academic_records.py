"""Student Academic Records and their course transcripts (seed 004, New Mexico; SPEC §7).

Pure functions over plain values: which students qualify, which term each transcript row belongs
to, the credit sums and the diploma. Each quotes the seed bullet it implements; where the seed is
ambiguous, SPEC §7's "Our reading" decides and the docstring says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Mapping

from .common import Mappings, SchoolYear, UnmappedValue, parse_day

SAR = "studentAcademicRecords"
SESSIONS = "sessions"
GRADUATED = "G"  # the exit/withdraw code value of a graduate (any namespace)


class TermNotDeterminable(LookupError):
    """No rule of seed 004 yields a term for a transcript row (an error-log row, never a guess)."""


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True)
class Term:
    term_id: int
    term_schedule_id: int
    name: str | None
    start_date: date | None
    end_date: date | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Term":
        return cls(row["term_id"], row["term_schedule_id"], row.get("name"),
                   parse_day(row.get("start_date"), "term start"), parse_day(row.get("end_date"), "term end"))


@dataclass(frozen=True)
class Enrollment:
    enrollment_id: int
    school_number: str | None
    district_number: str | None
    service_type: str | None
    start_date: date | None
    end_date: date | None
    end_status: str | None
    terms: tuple[Term, ...] = ()  # of its calendar's primary term schedules

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Enrollment":
        return cls(row["enrollment_id"], row.get("school_number"), row.get("district_number"),
                   row.get("service_type"),
                   parse_day(row.get("start_date"), f"enrollment {row['enrollment_id']} start"),
                   parse_day(row.get("end_date"), f"enrollment {row['enrollment_id']} end"),
                   row.get("end_status"), tuple(Term.of(t) for t in row.get("terms") or ()))


@dataclass(frozen=True)
class Graduation:
    graduation_id: int
    diploma_type: str | None
    diploma_date: date | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Graduation":
        return cls(row["graduation_id"], row.get("diploma_type"), parse_day(row.get("diploma_date"),
                                                                   f"graduation {row['graduation_id']} diploma date"))


@dataclass(frozen=True)
class Transcript:
    transcript_id: int
    end_year: int
    score_id: int | None = None
    transcript_override: str | None = None
    course_override: str | None = None
    section_override: str | None = None
    score_term: str | None = None  # name of the term the grading score is aligned to
    aligned_term: str | None = None  # case 2: the term of Y with the score term's seq
    credits_attempted: Decimal | None = None
    credits_earned: Decimal | None = None
    has_credit: bool = True
    course_number: str | None = None
    course_name: str | None = None
    grade: str | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> "Transcript":
        fields = {k: row.get(k) for k in cls.__dataclass_fields__ if k in row}
        return cls(**{**fields, "credits_attempted": _number(row.get("credits_attempted")),
                      "credits_earned": _number(row.get("credits_earned")),
                      "has_credit": bool(row.get("has_credit", True))})


@dataclass(frozen=True)
class Qualification:
    """Why a student gets academic records in the year, and the diploma they carry."""

    award_date: date
    diploma_type: str | None  # the SIS value; None: the default diploma type (graduated by end status)
    school_enrollment: Enrollment | None  # whose school's terms case 4 reads
    graduation: Graduation | None = None


def usable_graduation(graduations: Iterable[Graduation], year: SchoolYear) -> Graduation | None:
    """Seed: "Report a Student Academic Record instance when ... a Diploma Date is entered within the
    config year"; "Delete if the Diploma date and/or Diploma Type fields are made NULL"; "The Diploma
    Date must be on or after the school year's start date and on or before the school year's end date".
    Our reading (SPEC §7): the row needs a diploma type too; the latest date (then id) wins."""
    usable = [g for g in graduations if g.diploma_type is not None and year.contains(g.diploma_date)]
    return max(usable, key=lambda g: (g.diploma_date, g.graduation_id), default=None)


def graduated_by_end_status(enrollment: Enrollment, mappings: Mappings) -> bool:
    """Seed: "If reporting from an ended enrollment, only report if the ExitWithdrawType Descriptor in
    Student School Association reports "G"." Our reading: the end status maps to code value G in any
    namespace; only a primary enrollment that has ended counts."""
    if enrollment.service_type != "P" or enrollment.end_date is None:
        return False
    uri = mappings.get("studentSchoolAssociations", "exit_withdraw_type", enrollment.end_status)
    return uri is not None and uri.rpartition("#")[2] == GRADUATED


def latest_primary(enrollments: Iterable[Enrollment]) -> Enrollment | None:
    """Case 4's school when the student qualified by a diploma: his latest primary enrollment in Y
    (else his latest enrollment of any kind)."""
    ranked = sorted(enrollments, key=lambda e: (e.service_type == "P", e.start_date or date.min, e.enrollment_id))
    return ranked[-1] if ranked else None


def qualification(graduations: Iterable[Graduation], enrollments: Iterable[Enrollment], year: SchoolYear,
                  mappings: Mappings) -> Qualification | None:
    """Seed: "Report a Student Academic Record instance when a student's primary enrollment is ended OR
    a Diploma Date is entered within the config year and they have a Student School Association record
    for the configured year." Delete triggers: "If a Graduation record is deleted", "If the Diploma Date
    is changed to no longer occur in the configured year", "If there is no Diploma Date and the
    enrollment end status is changed to a non-graduated status". Our reading: (a) a usable graduation
    row, else (b) a primary enrollment ended with an end status mapped to 'G'; the caller passes only
    the student's enrollments of Y (his SSAs). None: no academic records at all."""
    enrollments = tuple(enrollments)
    if not enrollments:
        return None
    graduation = usable_graduation(graduations, year)
    if graduation is not None:
        return Qualification(graduation.diploma_date, graduation.diploma_type, latest_primary(enrollments),
                             graduation)
    ended = [e for e in enrollments if graduated_by_end_status(e, mappings)]
    if not ended:
        return None
    enrollment = max(ended, key=lambda e: (e.end_date, e.enrollment_id))
    return Qualification(enrollment.end_date, None, enrollment)


def diploma_type_descriptor(diploma_type: str | None, mappings: Mappings) -> str:
    """Seed: "Report the Ed-Fi Code value for the Diploma Type selected. If Diploma Type is not
    populated, report EdFi Code '1'." Our reading: the default is the (diploma_type, '*') mapping,
    else code 1 in the namespace the year's diploma_type mappings share; else an unmapped value."""
    if diploma_type is not None:
        return mappings.require(SAR, "diploma_type", diploma_type)
    default = mappings.get(SAR, "diploma_type", "*")
    if default is not None:
        return default
    namespaces = {uri.rpartition("#")[0] for uri in mappings.values(SAR, "diploma_type").values()}
    if len(namespaces) == 1:
        return f"{namespaces.pop()}#1"
    raise UnmappedValue(SAR, "diploma_type", "*")


def diploma(qualified: Qualification, mappings: Mappings) -> dict[str, Any]:
    """Seed: diplomaAwardDate "Report the Diploma Date if populated. Else, report the enrollment end
    date."; achievementCategoryDescriptor "Report the Ed-Fi Code from the mapping for this field based
    on the Diploma Type the student associated." Our reading: omitted with the default diploma type."""
    diploma_type = diploma_type_descriptor(qualified.diploma_type, mappings)
    category = None
    if qualified.diploma_type is not None:
        category = mappings.require(SAR, "achievement_category", qualified.diploma_type)
    return {"diplomaAwardDate": qualified.award_date, "diplomaTypeDescriptor": diploma_type,
            "achievementCategoryDescriptor": category}


def _mapped_override(value: str, mappings: Mappings, transcript: Transcript) -> str:
    uri = mappings.get(SESSIONS, "term", value)
    if uri is None:
        raise TermNotDeterminable(f"transcript {transcript.transcript_id}: its Ed-Fi term override {value!r} "
                                  f"has no sessions/term mapping")
    return uri


def transcript_term(transcript: Transcript, year: int, mappings: Mappings) -> str:
    """Seed termDescriptor, the three transcript cases:
    1. end year = configured year, with a scoreID: "Report the mapped Ed-Fi code for the value selected
       in 'Ed-Fi Transcript Term Override' ... If ... NULL, report the mapped Term Descriptor based on the
       Course Ed-Fi Term Descriptor Override, else Section Ed-Fi Term Descriptor Override ... report the
       Term Descriptor for the term aligned to the Grading Score ... Else, report the Ed-Fi Code from the
       Ed-Fi Transcript Term Descriptor Override in the SAR preferences. If a Term cannot be determined,
       provide error".
    2. other end year, with a scoreID: the transcript override, else "report the Term Descriptor from the
       term with the same sequence in the configured year in the same school", else the SAR preference.
    3. no scoreID: "Report the Ed-Fi Term Descriptor Override selected on the transcript record. Else,
       report the Ed-Fi Code from the Ed-Fi Transcript Term Descriptor Override in the SAR preferences".
    Our reading: an override someone set must map (else the term cannot be determined); a term the SIS
    derived (the score's, the re-aligned one) that is missing or unmapped falls back to the preference."""
    if transcript.transcript_override is not None:
        return _mapped_override(transcript.transcript_override, mappings, transcript)
    derived = None
    if transcript.score_id is not None and transcript.end_year == year:
        for override in (transcript.course_override, transcript.section_override):
            if override is not None:
                return _mapped_override(override, mappings, transcript)
        derived = transcript.score_term
    elif transcript.score_id is not None:
        derived = transcript.aligned_term
    uri = mappings.get(SESSIONS, "term", derived) or mappings.get(SAR, "transcript_term_override", "*")
    if uri is None:
        reason = (f"its term {derived!r} has no sessions/term mapping" if derived is not None
                  else "no term could be derived for it")
        raise TermNotDeterminable(f"transcript {transcript.transcript_id}: {reason} and there is no "
                                  f"studentAcademicRecords transcript_term_override '*' preference")
    return uri


def diploma_term(award_date: date, enrollment: Enrollment | None, mappings: Mappings) -> str:
    """Seed case 4: "report the Ed-Fi Term Descriptor from the Sessions Resource Preferences that the
    Diploma Date overlaps in the School where the student is enrolled. If the Term is not mapped or the
    diploma date does not overlap a term, use the term descriptor from the term with the latest end
    date. If more than 1 term schedule, report from the Primary term schedule. If the Diploma Date is
    aligned to more than 1 eligible Term Descriptor, report the value from the highest TermId."
    Our reading: the terms of the primary schedules of the school's calendar in Y."""
    terms = enrollment.terms if enrollment is not None else ()
    containing = [t for t in terms if t.start_date and t.end_date and t.start_date <= award_date <= t.end_date
                  and mappings.get(SESSIONS, "term", t.name)]
    if containing:
        return mappings.require(SESSIONS, "term", max(containing, key=lambda t: t.term_id).name)
    if not terms:
        raise TermNotDeterminable(f"the diploma date {award_date} falls in no primary term of the student's school")
    latest = max(terms, key=lambda t: (t.end_date or date.min, t.term_id))
    uri = mappings.get(SESSIONS, "term", latest.name)
    if uri is None:
        raise TermNotDeterminable(f"the diploma date {award_date} falls in no mapped term and the term with the "
                                  f"latest end date, {latest.name!r}, has no sessions/term mapping")
    return uri


@dataclass(frozen=True)
class Credits:
    attempted: Decimal | None
    earned: Decimal | None


def cumulative_credits(transcripts: Iterable[Transcript], year: int) -> Credits:
    """Seed cumulativeAttemptedCredits / cumulativeEarnedCredits: "Sum the total number of credits the
    student has attempted [earned] ... in the Transcript Credit table. Report '0' if the student does
    not have any ... This value will be the same for all Student Academic Records ... If the student
    does not have any Course Transcript records and is only reporting from Graduation, this field will
    be NULL." Our reading: rows with end_year <= Y only (a backfill never counts later years)."""
    rows = [t for t in transcripts if t.end_year <= year]
    if not rows:
        return Credits(None, None)
    return Credits(sum((t.credits_attempted or Decimal(0) for t in rows), Decimal(0)),
                   sum((t.credits_earned or Decimal(0) for t in rows), Decimal(0)))


def session_credits(terms: Mapping[int, str], transcripts: Iterable[Transcript], year: int, term: str,
                    any_transcripts: bool) -> Credits:
    """Seed sessionAttemptedCredits / sessionEarnedCredits: "Sum the transcript records that are in the
    same end year and are aligned to the same Term Descriptor as the Student Academic Record. Report '0'
    if the student does not have any Credits Earned. If the student does not have any Course Transcript
    records and is only reporting from Graduation, this field will be NULL." ``terms`` maps a
    transcript_id to its determined term."""
    if not any_transcripts:
        return Credits(None, None)
    rows = [t for t in transcripts if t.end_year == year and terms.get(t.transcript_id) == term]
    return Credits(sum((t.credits_attempted or Decimal(0) for t in rows), Decimal(0)),
                   sum((t.credits_earned or Decimal(0) for t in rows), Decimal(0)))


@dataclass(frozen=True)
class AcademicRecordPlan:
    """A qualifying student's records of the year: the terms (each one SAR), the term of each
    transcript row, the diploma's term, and the rows whose term could not be determined."""

    qualified: Qualification
    transcript_terms: dict[int, str]
    diploma_term: str
    undetermined: dict[int, str]  # transcript_id -> why

    @property
    def terms(self) -> list[str]:
        return sorted(set(self.transcript_terms.values()) | {self.diploma_term})


def plan(graduations: Iterable[Graduation], enrollments: Iterable[Enrollment], transcripts: Iterable[Transcript],
         year: SchoolYear, mappings: Mappings) -> AcademicRecordPlan | None:
    """Seed: one record per term the student's transcripts are aligned to, and "When the SAR is posted
    only from the Graduation Record because there are no Course Transcripts records for the student"
    (or none in the diploma's term) one for the diploma's term. Our reading (SPEC §7): non-graduates get
    no records; rows with end_year <= Y count."""
    qualified = qualification(graduations, enrollments, year, mappings)
    if qualified is None:
        return None
    found: dict[int, str] = {}
    undetermined: dict[int, str] = {}
    for transcript in transcripts:
        if transcript.end_year > year.end_year:
            continue
        try:
            found[transcript.transcript_id] = transcript_term(transcript, year.end_year, mappings)
        except TermNotDeterminable as exc:
            undetermined[transcript.transcript_id] = str(exc)
    term = diploma_term(qualified.award_date, qualified.school_enrollment, mappings)
    return AcademicRecordPlan(qualified, found, term, undetermined)



def course_attempt_result(transcript: Transcript, mappings: Mappings) -> str:
    """SPEC §7 courseTranscripts: "courseAttemptResultDescriptor (Pass when earned > 0, else Fail;
    mappable)" through the (courseTranscripts, course_attempt_result, pass|fail) mapping."""
    outcome = "pass" if (transcript.credits_earned or 0) > 0 else "fail"
    return mappings.get("courseTranscripts", "course_attempt_result", outcome) or \
        f"uri://ed-fi.org/CourseAttemptResultDescriptor#{outcome.capitalize()}"


def earned_credits(transcript: Transcript, data_standard: str) -> Decimal | None:
    """SPEC §7 courseTranscripts: "A row without a transcript_credit row sends earnedCredits 0 under
    DS 4.0 (required there) and omits it under DS 5."""
    if transcript.has_credit:
        return transcript.credits_earned or Decimal(0)
    return Decimal(0) if data_standard.startswith("4") else None
