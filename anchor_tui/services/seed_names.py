"""The seeder's words: invented Finnish names and places, note phrases, and who writes what.

Every name here is a common Finnish first or last name, combined at random: no real
person is described. Note phrases are short, plain English in the words an Anchor team
uses (the app's UI language), set in Finnish places.
"""

from __future__ import annotations

import random

FIRST_NAMES = (
    "Aino", "Eevi", "Emma", "Helmi", "Sofia", "Ella", "Venla", "Aada", "Linnea", "Olivia",
    "Lilja", "Kerttu", "Siiri", "Pihla", "Enni", "Iida", "Veera", "Emilia", "Elli", "Nelli",
    "Amina", "Daria", "Eino", "Väinö", "Leo", "Elias", "Onni", "Oliver", "Eetu", "Niilo",
    "Aleksi", "Juho", "Veeti", "Aatu", "Lenni", "Otto", "Toivo", "Joel", "Elmeri", "Eemil",
    "Niko", "Miro", "Jere", "Roope", "Santeri", "Ahmed", "Yusuf", "Nikita", "Ilmari", "Topias",
)

LAST_NAMES = (
    "Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine",
    "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen",
    "Heinonen", "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Salo", "Laitinen",
    "Tuominen", "Rantanen", "Karjalainen", "Jokinen", "Mattila", "Savolainen", "Lahtinen",
    "Ahonen", "Hyvönen", "Leinonen", "Hiltunen", "Miettinen", "Kettunen", "Hassan",
    "Mohamed", "Nguyen", "Pitkänen", "Räsänen",
)

# The team works in the capital region: most young people live in its municipalities.
MUNICIPALITIES = (
    "Helsinki", "Helsinki", "Helsinki", "Helsinki", "Espoo", "Espoo", "Espoo", "Vantaa",
    "Vantaa", "Vantaa", "Kauniainen", "Kerava", "Järvenpää", "Tuusula", "Sipoo",
    "Kirkkonummi", "Nurmijärvi", "Porvoo", "Lohja", "Vihti",
)

PLACES = (
    "Itäkeskus metro station", "Kamppi shopping centre", "Tikkurila railway station",
    "Leppävaara station", "Myyrmäki", "the youth centre in Kontula", "Sörnäinen",
    "Iso Omena", "Matinkylä", "Malmi station", "the Kallio library", "Kivistö",
    "Espoonlahti", "Puotila beach", "the skate park in Herttoniemi", "Hakaniemi market",
)

STAFF = {
    "police": ("Mikko Lahtinen", "police", "member"),
    "social": ("Sanna Koivisto", "social_work", "member"),
    "nurse": ("Riikka Heinonen", "health", "member"),
    "youth": ("Jussi Peltonen", "youth_work", "member"),
    "lead": ("Hanna Vartiainen", "social_work", "lead"),
    "auditor": ("Pekka Aaltonen", "social_work", "auditor"),
}
"""Demo usernames: (display name, profession, role)."""

# Note phrases: a body is opener + detail + plan. "{place}" is filled in at build time.
NOTE_PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "general": (
        ("Phone call with the guardian.", "Met the young person at school with the school "
         "social worker.", "Home visit together with youth work.", "Joint assessment meeting "
         "held.", "Anchor meeting with the young person and the mother.", "Short call with "
         "the young person.", "Met the young person and the father at {place}."),
        ("The young person was calm and answered questions.", "Says school attendance has "
         "improved since the autumn break.", "Plays floorball twice a week near {place}.",
         "Was tired and did not want to talk much today.", "The guardian is worried about "
         "late evenings at {place}.", "Has a summer job application open at a supermarket.",
         "Sleeping better; gaming has moved earlier in the evening."),
        ("Agreed to meet again in two weeks.", "Next contact by phone on Friday.",
         "Referral to the school psychologist discussed.", "Will check attendance with the "
         "school next week.", "The young person will think about the hobby group.",
         "Guardian will call if anything changes."),
    ),
    "police_intel": (
        ("Source grading B2.", "Information from the evening patrol.", "Tip from the "
         "community police officer.", "Observation from the surveillance camera review."),
        ("Seen with an older group known for shop thefts at {place}.", "Possible contact "
         "with a drug seller near {place}.", "Mentioned in a group chat about a planned "
         "fight at {place}.", "Scooter rides with older youths late at night near {place}."),
        ("No action now; for the police only.", "Patrols informed.", "To be checked at "
         "the next police briefing.", "Added to the local situational picture."),
    ),
    "health": (
        ("Assessment at the youth psychiatric outpatient clinic.", "Nurse appointment at "
         "school.", "Follow-up visit with the psychiatric nurse.", "Phone call with the "
         "young person about medication."),
        ("Sleep problems and low mood; no acute suicide risk.", "Anxiety in social "
         "situations; panic symptoms twice a week.", "Reports using cannabis at weekends; "
         "motivated to cut down.", "ADHD assessment in progress; waiting for school "
         "questionnaires."),
        ("Next appointment in three weeks.", "Referral to the substance use outpatient "
         "service.", "Short-term therapy offered.", "Guardian to join the next visit."),
    ),
    "child_welfare": (
        ("Child welfare notification made to social services.", "Concern raised by the "
         "school.", "Child welfare needs assessment started.", "Emergency social services "
         "contacted in the evening."),
        ("Guardian has not been home for two nights.", "Signs of violence at home reported "
         "by the young person.", "Young person found intoxicated at {place} late at night.",
         "Repeated absences from school and no contact with the guardian."),
        ("Social worker will contact the family this week.", "Needs assessment due within "
         "three months.", "Family work offered.", "Safety plan agreed with the guardian."),
    ),
    "youth_work": (
        ("Met at the youth centre.", "Outreach work on Friday evening at {place}.",
         "Small group activity.", "Met for a walk at {place}."),
        ("Played pool and talked about the summer job.", "Talked about friends and the "
         "group that gathers at {place}.", "Interested in the music studio.", "Has joined "
         "the cooking club and came twice."),
        ("Next contact at the youth centre on Tuesday.", "Will message on WhatsApp "
         "before the weekend.", "Invited to the weekend trip.", "Will introduce the "
         "young person to the hobby pass."),
    ),
}

CASE_SUMMARIES: dict[str, tuple[str, ...]] = {
    "first_offence": ("Shoplifting at {place}; first contact with the police.",
                      "Damage to property at {place}.", "Stolen e-scooter found at {place}."),
    "substance_use": ("Found with cannabis at {place}.", "Intoxicated at {place} on a "
                      "school night.", "Selling snus to younger pupils at school."),
    "radicalisation": ("Shared violent extremist material in a school group chat.",
                       "Teacher worried about violent talk and new online contacts.",
                       "Police tip about extremist symbols drawn at {place}."),
    "school_threat": ("Wrote a threat on a school social media account.", "Threatened a "
                      "classmate with a knife photo.", "Bomb threat message to the school."),
    "family_violence": ("Police call-out to the home after a fight with the stepfather.",
                        "Young person told the school nurse about hitting at home.",
                        "Violence between siblings; guardian asked for help."),
}

REFERRAL_SOURCES = ("the police", "the school", "child welfare", "the youth centre",
                    "the guardian")

TASK_TITLES = (
    "Call the guardian", "Book the anchor meeting", "Check school attendance",
    "Follow-up call after the referral", "Review consent with the young person",
    "Meet at the youth centre", "Send the referral", "Check the child welfare notification",
)

CONSENT_EVIDENCE = {
    "permit": ("Signed consent form, scanned to the case file.",
               "Verbal consent in the anchor meeting; two team members present."),
    "deny": ("Refused in the anchor meeting, in the young person's own words.",
             "Refused on the phone; confirmed by letter."),
}

CORRECTION_SUFFIX = " (Corrected: the meeting was a day earlier.)"
ERROR_REASON = "Written on the wrong case."

# Who writes which note category. A category not named here may be written by anyone.
WRITERS: dict[str, frozenset[str]] = {
    "police_intel": frozenset({"police"}),
    "health": frozenset({"health"}),
    "youth_work": frozenset({"youth_work"}),
}
# How often a profession writes a category, relative to the others it may write.
_WEIGHT = {"general": 5, "police_intel": 3, "health": 3, "youth_work": 3, "child_welfare": 1}
OWNER = {"health": "health", "youth_work": "youth_work", "child_welfare": "social_work"}
"""The profession whose information a category is (consents are about the others)."""
NOT_CONSENTED = ("general", "police_intel")
"""Categories nobody records consent for: seen by members anyway / never shared."""
CONSENT_KINDS = ("self_permit", "guardian_permit", "legal_representative_permit",
                 "refusal_next_to_guardian_permit", "expired", "withdrawn", "guardian_deny")


def weight(category: str, profession: str) -> int:
    """How often ``profession`` writes ``category`` (social work writes most child welfare)."""
    value = _WEIGHT.get(category, 1)
    if category not in WRITERS and OWNER.get(category) == profession:
        value *= 2
    return value


def bodies(rng: random.Random, category: str, count: int) -> list[str]:
    """``count`` note bodies for ``category`` (general phrases for a category not known here)."""
    openers, details, plans = NOTE_PHRASES.get(category, NOTE_PHRASES["general"])
    out = []
    for _ in range(count):
        place = rng.choice(PLACES)
        body = f"{rng.choice(openers)} {rng.choice(details)} {rng.choice(plans)}"
        out.append(body.replace("{place}", place))
    return out


def summaries(category: str) -> list[str]:
    """One-line reasons a case of ``category`` was opened."""
    templates = CASE_SUMMARIES.get(
        category, tuple(f"Referred to the Anchor team by {s}." for s in REFERRAL_SOURCES))
    return [t.replace("{place}", place) for t in templates for place in PLACES]
