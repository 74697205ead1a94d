"""Code lists shared by every service (domain.md §1, §3, §5)."""

from enum import StrEnum


class Method(StrEnum):
    """The support methods a course can follow."""

    CTI = "CTI"  # Critical Time Intervention, time-limited (~9 months in phases)
    ICM = "ICM"  # Intensive Case Management, open-ended
    ACT = "ACT"  # Assertive Community Treatment, multidisciplinary team
    SEL85 = "SEL85"  # ordinary home support under SEL §85


class CtiPhase(StrEnum):
    CONTACT = "contact"  # kontaktskabelse, before phase 1
    PHASE_1 = "1"  # overgang til egen bolig
    PHASE_2 = "2"  # afprøvning
    PHASE_3 = "3"  # overdragelse af støtte


CTI_PHASE_ORDER: tuple[CtiPhase, ...] = (
    CtiPhase.CONTACT,
    CtiPhase.PHASE_1,
    CtiPhase.PHASE_2,
    CtiPhase.PHASE_3,
)


class HousingSituation(StrEnum):
    """Housing situation codes (domain.md §5); the VIVE categories 1-9 are the homeless group."""

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


OWN_HOME: frozenset[HousingSituation] = frozenset(
    {
        HousingSituation.ALMEN,
        HousingSituation.PRIVATE_RENTAL,
        HousingSituation.OWNER,
        HousingSituation.SKAEV,
        HousingSituation.SHARED_SUPPORTED,
    }
)


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
