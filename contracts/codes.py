"""Code lists shared by every service (docs/domain.md §1, §3, §5). Which codes form which group,
and the methods' norms, are in contracts/methods.py."""

from enum import StrEnum


class Method(StrEnum):
    """The support methods a course can follow."""

    CTI = "CTI"  # Critical Time Intervention, time-limited (~9 months in phases)
    ICM = "ICM"  # Intensive Case Management, open-ended
    ACT = "ACT"  # Assertive Community Treatment, multidisciplinary team
    SEL85 = "SEL85"  # ordinary home support under SEL §85
    OUTREACH = "OUTREACH"  # outreach under SEL §99 (opsøgende indsats), in OutreachPhase phases


class CitizenMethod(StrEnum):
    """The methods followed as facts about the citizen, not as a course (docs/domain.md §1): a KPI's
    `method` filter takes these beside the course methods (Method) and then counts the citizens who
    followed the method in the period, and their courses."""

    UDREDNING = "UDREDNING"  # Udredning og Plan at a §110 shelter (UdredningStarted/Completed)
    KOREPLAN = "KOREPLAN"  # Køreplan for a release or discharge (ReleasePlanned/MeetingHeld/Completed)


class VisitationRefusal(StrEnum):
    """Why a referral's visitation was refused (afslag; docs/domain.md §4)."""

    NOT_IN_TARGET_GROUP = "not_in_target_group"  # outside the method's target group
    NEEDS_LESS = "needs_less"  # the need is met by less intensive support
    NEEDS_MORE = "needs_more"  # the need calls for more (e.g. §107/§108 or treatment)
    DECLINED_BY_CITIZEN = "declined_by_citizen"  # the citizen does not want the offer
    NO_CAPACITY = "no_capacity"  # no place in the offer now
    OTHER = "other"


class HandoverOffer(StrEnum):
    """The named follow-on offer a course hands the citizen over to at its end (overdragelse)."""

    SEL85 = "sel85"  # home support under SEL §85
    SEL99 = "sel99"  # another §99 outreach effort
    SEL107 = "sel107"  # temporary supported housing
    SEL108 = "sel108"  # long-term supported housing
    ICM = "icm"
    ACT = "act"
    CTI = "cti"
    TREATMENT = "treatment"  # substance or psychiatric treatment
    JOBCENTRE = "jobcentre"
    NETWORK = "network"  # relatives, volunteers, a visiting friend
    OTHER = "other"


class CtiPhase(StrEnum):
    CONTACT = "contact"  # kontaktskabelse, before phase 1
    PHASE_1 = "1"  # overgang til egen bolig
    PHASE_2 = "2"  # afprøvning
    PHASE_3 = "3"  # overdragelse af støtte


class HousingSituation(StrEnum):
    """Housing situation codes (docs/domain.md §5); the VIVE categories 1-9 are the homeless group."""

    STREET = "street"
    NIGHT_SHELTER = "night_shelter"
    SHELTER_110 = "shelter_110"
    HOTEL = "hotel"
    SOFA = "sofa"
    TRANSITIONAL = "transitional"
    PRISON_NO_HOUSING = "prison_no_housing"
    HOSPITAL_NO_HOUSING = "hospital_no_housing"
    OTHER_HOMELESS = "other_homeless"
    ALMEN = "almen"
    PRIVATE_RENTAL = "private_rental"
    OWNER = "owner"
    SKAEV = "skaev"
    SHARED_SUPPORTED = "shared_supported"
    SEL107 = "sel107"
    SEL108 = "sel108"
    PRISON = "prison"
    HOSPITAL = "hospital"
    TREATMENT = "treatment"
    UNKNOWN = "unknown"


class HousingLossReason(StrEnum):
    EVICTION = "eviction"
    LEFT = "left"
    INSTITUTION = "institution"
    OTHER = "other"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class OutreachPhase(StrEnum):
    """SEL §99 outreach for isolated citizens (docs/domain.md §1): no numeric deadlines."""

    CONTACT_MAKING = "contact_making"  # kontaktskabelse
    RELATIONSHIP = "relationship"  # relationsarbejde
    BRIDGING = "bridging"  # brobygning og overdragelse


class ContactKind(StrEnum):
    FACE_TO_FACE = "face_to_face"
    PHONE_DIGITAL = "phone_digital"
    PARTNERS = "partners"  # with partners on the citizen's behalf
    ATTEMPTED = "attempted"  # attempted without contact
    CANCELLED_BY_CITIZEN = "cancelled_by_citizen"


class CourseEndReason(StrEnum):
    COMPLETED = "completed"
    NO_LONGER_NEEDS_SUPPORT = "no_longer_needs_support"
    NEEDS_OTHER_SUPPORT = "needs_other_support"  # revisitation to another method
    DOES_NOT_WANT_SUPPORT = "does_not_want_support"
    CONTACT_LOST = "contact_lost"
    MOVED = "moved"
    PRISON = "prison"
    DIED = "died"
    OTHER = "other"


ENDED_BY_CITIZEN: frozenset[CourseEndReason] = frozenset(
    {CourseEndReason.DOES_NOT_WANT_SUPPORT, CourseEndReason.CONTACT_LOST}
)

# The citizen left support (docs/domain.md §8): the endings after which the 6/9/12-month follow-ups are due.
LEFT_SUPPORT: frozenset[CourseEndReason] = frozenset(
    {CourseEndReason.COMPLETED, CourseEndReason.NO_LONGER_NEEDS_SUPPORT}
)


class FollowOnOffer(StrEnum):
    """Whether a satisfactory follow-on offer is in place at course end."""

    HIGH = "hoej"  # høj grad
    SOME = "nogen"
    POOR = "ringe"
    NONE = "slet_ikke"
    UNKNOWN = "ved_ikke"


class ReleaseFrom(StrEnum):
    """Where a Køreplan releases or discharges the citizen from (docs/domain.md §1)."""

    PRISON = "prison"  # løsladelse fra fængsel
    HOSPITAL = "hospital"  # udskrivning fra hospital
    TREATMENT = "treatment"  # udskrivning fra behandling


class ShelterDischarge(StrEnum):
    PLANNED = "planned"
    UNPLANNED = "unplanned"


class HandleplanFact(StrEnum):
    OFFERED = "offered"
    CREATED = "created"
    DECLINED = "declined"
    REVISED = "revised"


class EvictionRiskKind(StrEnum):
    SECOND_RENT_REMINDER = "second_rent_reminder"
    BAILIFF_CASE = "bailiff_case"  # fogedsag
    OTHER = "other"


class IncomeType(StrEnum):
    WAGE = "wage"
    UNEMPLOYMENT_BENEFIT = "unemployment_benefit"  # dagpenge
    SICKNESS_BENEFIT = "sickness_benefit"  # sygedagpenge
    KONTANTHJAELP = "kontanthjaelp"
    UDDANNELSESHJAELP = "uddannelseshjaelp"
    SU = "su"
    FOERTIDSPENSION = "foertidspension"
    FOLKEPENSION = "folkepension"
    NONE = "none"
    OTHER = "other"


class EmploymentStatus(StrEnum):
    EMPLOYED = "employed"
    EDUCATION = "education"
    UNEMPLOYED = "unemployed"
    OUTSIDE_LABOUR_MARKET = "outside_labour_market"
    UNKNOWN = "unknown"


class JobcentreCategory(StrEnum):
    JOBPARAT = "jobparat"
    AKTIVITETSPARAT = "aktivitetsparat"
    UDDANNELSESPARAT = "uddannelsesparat"


class FollowUpAnswer(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class WorkerRole(StrEnum):
    SUPPORT_WORKER = "support_worker"
    TEAM_LEADER = "team_leader"


class WaitingListHousing(StrEnum):
    ALMEN = "almen"
    YOUTH = "ungdomsbolig"
    SKAEV = "skaev"
    SUPPORTED = "shared_supported"
    OTHER = "other"


class ReferralSource(StrEnum):
    """Who turned to the municipality about a citizen (henvendelse; docs/domain.md §4)."""

    CITIZEN = "citizen"  # the citizen themself
    PRIVATE_PERSON = "private_person"
    RELATIVE = "relative"
    CARETAKER = "caretaker"  # varmemester, vicevært
    MUNICIPAL_PROFESSIONAL = "municipal_professional"
    GP = "gp"
    HOSPITAL_PSYCHIATRY = "hospital_psychiatry"
    PRISON_PROBATION = "prison_probation"
    SHELTER = "shelter"
    OUTREACH = "outreach"  # found by the municipality's own outreach
    OTHER = "other"


class ReferralChannel(StrEnum):
    PHONE = "phone"
    IN_PERSON = "in_person"
    WRITTEN = "written"  # letter, e-mail, digital post
    OUTREACH = "outreach"  # met during outreach


class ReferralDestination(StrEnum):
    """Where a referral outside the target group was referred on to."""

    HEALTH_CARE = "health_care"  # sundhed og omsorg
    DROP_IN = "drop_in"  # væresteder
    JOBCENTRE = "jobcentre"
    VISITING_FRIEND = "visiting_friend"  # besøgsven
    GP = "gp"
    OTHER_SEL99 = "other_sel99"  # another §99 effort
    OTHER = "other"
