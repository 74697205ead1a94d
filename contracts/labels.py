"""What the codes and fact types are called, in Danish and English: the words users read.

The codes are the contracts' (contracts/codes.py and the instruments of contracts/instruments.py,
docs/domain.md §1, §3, §5); a page, an export or
an alert text shows these labels, never the code. `tests/test_labels.py` checks that every code and
every fact type has both.
"""

from enum import StrEnum
from typing import Literal

from contracts import codes
from contracts.facts import FACT_TYPES
from contracts.instruments import Instrument
from contracts.surveys import Partner

Lang = Literal["da", "en"]
Label = tuple[str, str]  # (Danish, English)

CODE_LABELS: dict[type[StrEnum], dict[str, Label]] = {
    Instrument: {
        "WHO5": ("WHO-5 (trivsel)", "WHO-5 (well-being)"),
        "UCLA3": ("UCLA-3 (ensomhed)", "UCLA-3 (loneliness)"),
        "ORS": ("ORS (Outcome Rating Scale)", "ORS (Outcome Rating Scale)"),
        "SRS": ("SRS (Session Rating Scale)", "SRS (Session Rating Scale)"),
        "LIKERT": ("Likert-skala (dobbelt bundlinje)", "Likert scale (double bottom line)"),
        "RECOVERY_STAR": ("Recovery Star (Outcome Star)", "Recovery Star (Outcome Star)"),
    },
    codes.Method: {
        "CTI": ("CTI", "CTI"),
        "ICM": ("ICM", "ICM"),
        "ACT": ("ACT", "ACT"),
        "SEL85": ("Bostøtte efter §85", "Home support (§85)"),
        "OUTREACH": ("Opsøgende indsats (§99)", "Outreach (§99)"),
    },
    codes.CitizenMethod: {
        "UDREDNING": ("Udredning og Plan", "Assessment and plan (Udredning)"),
        "KOREPLAN": ("Køreplan", "Release plan (Køreplan)"),
    },
    codes.VisitationRefusal: {
        "not_in_target_group": ("Ikke i målgruppen", "Not in the target group"),
        "needs_less": ("Behov for mindre støtte", "Needs less support"),
        "needs_more": ("Behov for mere støtte", "Needs more support"),
        "declined_by_citizen": ("Borgeren takkede nej", "Declined by the citizen"),
        "no_capacity": ("Ingen ledig plads", "No capacity"),
        "other": ("Andet", "Other"),
    },
    codes.HandoverOffer: {
        "sel85": ("Bostøtte efter §85", "Home support (§85)"),
        "sel99": ("Anden opsøgende indsats (§99)", "Other outreach (§99)"),
        "sel107": ("Midlertidigt botilbud (§107)", "Temporary supported housing (§107)"),
        "sel108": ("Længerevarende botilbud (§108)", "Long-term supported housing (§108)"),
        "icm": ("ICM", "ICM"),
        "act": ("ACT", "ACT"),
        "cti": ("CTI", "CTI"),
        "treatment": ("Behandling", "Treatment"),
        "jobcentre": ("Jobcenter", "Jobcentre"),
        "network": ("Netværk, frivillige, besøgsven", "Network, volunteers, visiting friend"),
        "other": ("Andet", "Other"),
    },
    codes.CtiPhase: {
        "contact": ("Kontaktfase", "Contact phase"),
        "1": ("Fase 1: overgang til egen bolig", "Phase 1: transition to own home"),
        "2": ("Fase 2: afprøvning", "Phase 2: try-out"),
        "3": ("Fase 3: overdragelse af støtte", "Phase 3: transfer of support"),
    },
    codes.HousingSituation: {
        "street": ("Gadesovende", "Sleeping rough"),
        "night_shelter": ("Natvarmestue", "Night shelter"),
        "shelter_110": ("Herberg/forsorgshjem (§110)", "Shelter (§110)"),
        "hotel": ("Hotel, vandrehjem o.l.", "Hotel, hostel etc."),
        "sofa": ("Sofasurfer hos familie/venner", "Sofa-surfing with family/friends"),
        "transitional": ("Midlertidig overgangsbolig", "Transitional housing"),
        "prison_no_housing": ("Fængsel, uden bolig ved løsladelse", "Prison, no home on release"),
        "hospital_no_housing": ("Hospital/behandling, uden bolig ved udskrivning", "Hospital, no home on discharge"),
        "other_homeless": ("Anden hjemløshed", "Other homelessness"),
        "almen": ("Almen bolig", "Social housing"),
        "private_rental": ("Privat lejebolig", "Private rental"),
        "owner": ("Ejerbolig", "Owner-occupied"),
        "skaev": ("Skæv bolig", "Alternative housing (skæv bolig)"),
        "shared_supported": ("Bofællesskab med støtte", "Shared supported housing"),
        "sel107": ("Midlertidigt botilbud (§107)", "Temporary residential care (§107)"),
        "sel108": ("Længerevarende botilbud (§108)", "Long-term residential care (§108)"),
        "prison": ("Fængsel, med bolig", "Prison, with a home"),
        "hospital": ("Hospital, med bolig", "Hospital, with a home"),
        "treatment": ("Døgnbehandling", "Residential treatment"),
        "unknown": ("Ukendt", "Unknown"),
    },
    codes.HousingLossReason: {
        "eviction": ("Udsættelse", "Eviction"),
        "left": ("Fraflytning", "Moved out"),
        "institution": ("Anbragt/indlagt", "Institution"),
        "other": ("Andet", "Other"),
    },
    codes.Gender: {
        "female": ("Kvinde", "Female"),
        "male": ("Mand", "Male"),
        "other": ("Andet", "Other"),
        "unknown": ("Ukendt", "Unknown"),
    },
    codes.OutreachPhase: {
        "contact_making": ("Kontaktskabelse", "Making contact"),
        "relationship": ("Relationsarbejde", "Building the relationship"),
        "bridging": ("Brobygning og overdragelse", "Bridging and handover"),
    },
    codes.ContactKind: {
        "face_to_face": ("Personligt møde", "Face to face"),
        "phone_digital": ("Telefon/digitalt", "Phone/digital"),
        "partners": ("Med samarbejdspartnere", "With partners"),
        "attempted": ("Forsøgt uden kontakt", "Attempted, no contact"),
        "cancelled_by_citizen": ("Aflyst af borgeren", "Cancelled by the citizen"),
    },
    codes.CourseEndReason: {
        "completed": ("Gennemført", "Completed"),
        "no_longer_needs_support": ("Har ikke længere brug for støtte", "No longer needs support"),
        "needs_other_support": ("Revisiteret til anden indsats", "Revisited to other support"),
        "does_not_want_support": ("Ønsker ikke støtte", "Does not want support"),
        "contact_lost": ("Kontakten mistet", "Contact lost"),
        "moved": ("Fraflyttet kommunen", "Moved away"),
        "prison": ("Fængsel", "Prison"),
        "died": ("Død", "Died"),
        "other": ("Andet", "Other"),
    },
    codes.FollowOnOffer: {
        "hoej": ("I høj grad", "To a high degree"),
        "nogen": ("I nogen grad", "To some degree"),
        "ringe": ("I ringe grad", "To a small degree"),
        "slet_ikke": ("Slet ikke", "Not at all"),
        "ved_ikke": ("Ved ikke", "Unknown"),
    },
    codes.ShelterDischarge: {
        "planned": ("Planlagt udskrivning", "Planned discharge"),
        "unplanned": ("Uplanlagt udskrivning", "Unplanned discharge"),
    },
    codes.HandleplanFact: {
        "offered": ("Tilbudt", "Offered"),
        "created": ("Udarbejdet", "Created"),
        "declined": ("Afslået", "Declined"),
        "revised": ("Revideret", "Revised"),
    },
    codes.EvictionRiskKind: {
        "second_rent_reminder": ("Anden rykker for husleje", "Second rent reminder"),
        "bailiff_case": ("Fogedsag", "Bailiff case"),
        "other": ("Anden risiko", "Other risk"),
    },
    codes.IncomeType: {
        "wage": ("Løn", "Wage"),
        "unemployment_benefit": ("Dagpenge", "Unemployment benefit"),
        "sickness_benefit": ("Sygedagpenge", "Sickness benefit"),
        "kontanthjaelp": ("Kontanthjælp", "Social assistance (kontanthjælp)"),
        "uddannelseshjaelp": ("Uddannelseshjælp", "Education assistance (uddannelseshjælp)"),
        "su": ("SU", "Student grant (SU)"),
        "foertidspension": ("Førtidspension", "Disability pension"),
        "folkepension": ("Folkepension", "State pension"),
        "none": ("Ingen indkomst", "No income"),
        "other": ("Anden indkomst", "Other income"),
    },
    codes.EmploymentStatus: {
        "employed": ("I beskæftigelse", "Employed"),
        "education": ("I uddannelse", "In education"),
        "unemployed": ("Ledig", "Unemployed"),
        "outside_labour_market": ("Uden for arbejdsmarkedet", "Outside the labour market"),
        "unknown": ("Ukendt", "Unknown"),
    },
    codes.JobcentreCategory: {
        "jobparat": ("Jobparat", "Job-ready (jobparat)"),
        "aktivitetsparat": ("Aktivitetsparat", "Activity-ready (aktivitetsparat)"),
        "uddannelsesparat": ("Uddannelsesparat", "Education-ready (uddannelsesparat)"),
    },
    codes.FollowUpAnswer: {
        "yes": ("Ja", "Yes"),
        "no": ("Nej", "No"),
        "unknown": ("Ved ikke", "Unknown"),
    },
    codes.WorkerRole: {
        "support_worker": ("Støttemedarbejder", "Support worker"),
        "team_leader": ("Teamleder", "Team leader"),
    },
    codes.WaitingListHousing: {
        "almen": ("Almen bolig", "Social housing"),
        "ungdomsbolig": ("Ungdomsbolig", "Youth housing"),
        "skaev": ("Skæv bolig", "Alternative housing (skæv bolig)"),
        "shared_supported": ("Bofællesskab med støtte", "Shared supported housing"),
        "other": ("Anden bolig", "Other housing"),
    },
    codes.ReferralSource: {
        "citizen": ("Borgeren selv", "The citizen"),
        "private_person": ("Privatperson", "Private person"),
        "relative": ("Pårørende", "Relative"),
        "caretaker": ("Varmemester/vicevært", "Caretaker"),
        "municipal_professional": ("Fagperson i kommunen", "Municipal professional"),
        "gp": ("Egen læge", "GP"),
        "hospital_psychiatry": ("Hospital/psykiatri", "Hospital or psychiatry"),
        "prison_probation": ("Kriminalforsorg", "Prison and probation service"),
        "shelter": ("Herberg/forsorgshjem", "Shelter"),
        "outreach": ("Kommunens opsøgende arbejde", "The municipality's outreach"),
        "other": ("Andet", "Other"),
    },
    codes.ReferralChannel: {
        "phone": ("Telefon", "Phone"),
        "in_person": ("Personligt fremmøde", "In person"),
        "written": ("Skriftligt", "Written"),
        "outreach": ("Under opsøgende arbejde", "During outreach"),
    },
    codes.ReleaseFrom: {
        "prison": ("Fængsel", "Prison"),
        "hospital": ("Hospital", "Hospital"),
        "treatment": ("Behandling", "Treatment"),
    },
    codes.ReferralDestination: {
        "health_care": ("Sundhed og omsorg", "Health and care"),
        "drop_in": ("Værested", "Drop-in centre"),
        "jobcentre": ("Jobcenter", "Jobcentre"),
        "visiting_friend": ("Besøgsven", "Visiting friend"),
        "gp": ("Egen læge", "GP"),
        "other_sel99": ("Anden §99-indsats", "Other §99 effort"),
        "other": ("Andet tilbud", "Other offer"),
    },
    Partner: {
        "jobcentre": ("Jobcenter", "Jobcentre"),
        "psychiatry": ("Psykiatri", "Psychiatry"),
        "addiction_treatment": ("Misbrugsbehandling", "Addiction treatment"),
        "housing": ("Boligorganisation", "Housing organisation"),
        "health": ("Sundhed (fx egen læge)", "Health (e.g. GP)"),
        "prison_probation": ("Kriminalforsorg", "Prison and probation service"),
        "shelter": ("Herberg/forsorgshjem", "Shelter"),
        "other": ("Anden samarbejdspartner", "Other partner"),
    },
}

FACT_LABELS: dict[str, Label] = {
    "TeamRegistered": ("Team oprettet", "Team registered"),
    "WorkerRegistered": ("Medarbejder oprettet", "Worker registered"),
    "WorkerMovedTeam": ("Medarbejder skiftet team", "Worker moved team"),
    "WorkerLeft": ("Medarbejder fratrådt", "Worker left"),
    "HousingStockReported": ("Boligsituation i kommunen indberettet", "Housing stock reported"),
    "SurveyDefined": ("Spørgeskema defineret", "Survey defined"),
    "SurveyAnswered": ("Spørgeskema besvaret", "Survey answered"),
    "PartnerMeetingHeld": ("Møde med samarbejdspartnere holdt", "Partner meeting held"),
    "CitizenRegistered": ("Borger oprettet", "Citizen registered"),
    "ReferralReceived": ("Henvendelse modtaget", "Referral received"),
    "ReferralAssessed": ("Henvendelse vurderet", "Referral assessed"),
    "VisitationRefused": ("Visitation afslået", "Visitation refused"),
    "CourseHandedOver": ("Overdraget til tilbud efter forløbet", "Handed over to a follow-on offer"),
    "HousingWaitingListRegistered": ("Skrevet op til bolig", "Put on a housing waiting list"),
    "HomeOfferedViaAllocationRight": ("Bolig anvist (kommunal anvisning)", "Home offered via allocation right"),
    "HousingSituationRecorded": ("Boligsituation registreret", "Housing situation recorded"),
    "HousingGained": ("Egen bolig opnået", "Housing gained"),
    "HousingLost": ("Bolig mistet", "Housing lost"),
    "ShelterStayStarted": ("Ophold på §110-tilbud begyndt", "§110 stay started"),
    "ShelterStayEnded": ("Ophold på §110-tilbud afsluttet", "§110 stay ended"),
    "ShelterContactMade": ("Kontakt under §110-ophold", "Contact during §110 stay"),
    "ReleasePlanned": ("Køreplan: løsladelse/udskrivning planlagt", "Køreplan: release planned"),
    "ReleaseMeetingHeld": ("Køreplan: møde før løsladelse/udskrivning holdt", "Køreplan: release meeting held"),
    "ReleaseCompleted": ("Køreplan: løsladt/udskrevet", "Køreplan: released"),
    "UdredningStarted": ("Udredning og Plan påbegyndt", "Udredning og Plan started"),
    "UdredningCompleted": ("Udredning og Plan afsluttet med anbefalinger", "Udredning og Plan completed"),
    "AssessedReadyToMove": ("Vurderet klar til egen bolig", "Assessed ready to move"),
    "HandleplanOffered": ("Handleplan tilbudt", "Handleplan offered"),
    "HandleplanCreated": ("Handleplan udarbejdet", "Handleplan created"),
    "HandleplanDeclined": ("Handleplan afslået", "Handleplan declined"),
    "HandleplanRevised": ("Handleplan revideret", "Handleplan revised"),
    "EvictionRiskRegistered": ("Risiko for udsættelse", "Eviction risk registered"),
    "EvictionPrevented": ("Udsættelse afværget", "Eviction prevented"),
    "EvictionCarriedOut": ("Udsættelse gennemført", "Eviction carried out"),
    "IncomeTypeRecorded": ("Forsørgelse registreret", "Income type recorded"),
    "EmploymentStatusRecorded": ("Beskæftigelse registreret", "Employment status recorded"),
    "SubstanceTreatmentStarted": ("Misbrugsbehandling begyndt", "Substance treatment started"),
    "SubstanceTreatmentEnded": ("Misbrugsbehandling afsluttet", "Substance treatment ended"),
    "FollowUpRecorded": ("Opfølgning efter forløb", "Follow-up after the course"),
    "ConsentGiven": ("Samtykke givet", "Consent given"),
    "ConsentWithdrawn": ("Samtykke trukket tilbage", "Consent withdrawn"),
    "CitizenErased": ("Borgerens oplysninger slettet", "Citizen erased"),
    "VisitationDecided": ("Visiteret til indsats", "Visitation decided"),
    "CourseStarted": ("Forløb begyndt", "Course started"),
    "SupportWorkerChanged": ("Ny støttemedarbejder", "Support worker changed"),
    "CtiPhaseStarted": ("Ny CTI-fase", "CTI phase started"),
    "OutreachPhaseStarted": ("Ny fase i opsøgende arbejde", "Outreach phase started"),
    "TimePlanned": ("Tid afsat", "Time planned"),
    "ExpectedProgressionSet": ("Forventet progression sat", "Expected progression set"),
    "ContactRecorded": ("Kontakt registreret", "Contact recorded"),
    "FactWithdrawn": ("Registrering trukket tilbage", "Fact withdrawn"),
    "MeasurementRecorded": ("Måling registreret", "Measurement recorded"),
    "CourseEnded": ("Forløb afsluttet", "Course ended"),
    "CourseStartCorrected": ("Forløbets start rettet", "Course start corrected"),
    "CtiPhaseStartCorrected": ("CTI-fasens start rettet", "CTI phase start corrected"),
}


def fact_types() -> set[str]:
    return {model.model_fields["type"].default for model in FACT_TYPES}


def code_label(code: StrEnum, lang: Lang = "da") -> str:
    da, en = CODE_LABELS[type(code)][code.value]
    return da if lang == "da" else en


def fact_label(fact_type: str, lang: Lang = "da") -> str:
    da, en = FACT_LABELS.get(fact_type, (fact_type, fact_type))
    return da if lang == "da" else en


def catalogue() -> dict[str, object]:
    """Every label, for pages that draw codes and fact types: {"codes": {enum: {code: [da, en]}}, "facts": ...}."""
    return {
        "codes": {
            enum.__name__: {code: list(label) for code, label in table.items()} for enum, table in CODE_LABELS.items()
        },
        "facts": {fact_type: list(FACT_LABELS[fact_type]) for fact_type in sorted(fact_types())},
    }
