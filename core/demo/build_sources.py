"""Write the demo review's search results: five exports in their databases' own formats, the answer key and a
README, into core/demo/sources/. Deterministic: the same code writes the same bytes (random.Random(SEED)).

    python -m core.demo.build_sources            # rewrite core/demo/sources/
    python -m core.demo.build_sources OUT_DIR    # write elsewhere (the tests compare the two)

What it makes:
- a few hundred *works* (distinct publications or registrations): the three included trials (real
  bibliographic facts, see trials.py), a registry record of one of them, about twenty hand-written records that
  look relevant at title/abstract, and about two hundred made from the topic tables below, most of them plainly
  irrelevant (ketamine for depression, postoperative pain, children, animal studies, other cancer pain drugs …);
- for each work, the copies the databases hold: the same article in MEDLINE, Embase and CENTRAL with the small
  differences real exports have, registrations in ClinicalTrials.gov and the WHO ICTRP (which republishes
  ClinicalTrials.gov) and CENTRAL. Three works are pairs the deduplicator cannot be sure of (a conference
  abstract and its article; Embase in-press records without DOI, pages or PubMed id, a year earlier): it queues
  them for a person.
- key.json: where each work sits in each file, how the deduplicator should treat its copies, and how the two
  authors and the editor screen it (see README.md).

core/tests/test_demo_sources.py checks the output with Sieve's importers and deduplication: every file imports
without a warning, and the duplicates found are exactly the ones the key names. Made-up titles are kept clearly
apart from each other (`Maker.distinct`), so that only the intended copies look alike.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from rapidfuzz import fuzz

from core.demo.trials import (
    CAN_J_ANAESTH,
    HARDY_2012,
    INCLUDED_TRIALS,
    J_CLIN_ONCOL,
    J_PAIN_SYMPTOM_MANAGE,
    Author,
    IncludedTrial,
    Journal,
)

SEED = 20120909
SOURCES_DIR = Path(__file__).resolve().parent / "sources"

MEDLINE, CENTRAL, EMBASE, CTGOV, ICTRP = (
    "medline_ovid.ris",
    "central_crso.ris",
    "embase_ovid.ris",
    "clinicaltrials_gov.json",
    "ictrp.xml",
)
FILES = {  # file -> (source name as the demo imports it, Sieve's format name); the order is the key's
    MEDLINE: ("MEDLINE (Ovid)", "ris"),
    CENTRAL: ("CENTRAL (CRSO)", "ris"),
    EMBASE: ("Embase (Ovid)", "ris"),
    CTGOV: ("ClinicalTrials.gov", "ctgov_json"),
    ICTRP: ("WHO ICTRP", "ictrp_xml"),
}
PATTERN_FILES = {"M": MEDLINE, "C": CENTRAL, "E": EMBASE, "T": CTGOV, "I": ICTRP}

INCLUDE, EXCLUDE, MAYBE = "include", "exclude", "maybe"
# Sieve's default full-text exclusion reasons (screening.models.DEFAULT_EXCLUSION_REASONS).
WRONG_POPULATION = "Wrong population"
WRONG_INTERVENTION = "Wrong intervention"
WRONG_COMPARATOR = "Wrong comparator"
WRONG_OUTCOME = "Wrong outcome"
WRONG_DESIGN = "Wrong study design"
TOO_FEW = "Too few participants"


# ---------------------------------------------------------------------------------------------------------------
# What a work is
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Article:
    """A journal article or conference abstract, as one database describes it."""

    title: str
    abstract: str
    authors: tuple[Author, ...]
    year: int
    journal: Journal
    volume: str = ""
    issue: str = ""
    first_page: str = ""
    last_page: str = ""
    doi: str = ""
    pmid: str = ""
    kind: str = "article"  # article, conference, review
    mesh: tuple[str, ...] = ()
    emtree: tuple[str, ...] = ()
    language: str = "English"
    embase_id: str = ""
    central_id: str = ""
    title_case: bool = False  # Embase's copy in Title Case (as some journals print it)
    registry_id: str = ""  # the trial's registration, which CENTRAL gives
    abbreviated_journal: bool = False  # CENTRAL's copy names the journal by its abbreviation


@dataclass
class Registration:
    """A trial registration, as a register (or CENTRAL, which copies registers) describes it."""

    registry_id: str
    register: str  # ClinicalTrials.gov, ANZCTR, ChiCTR, IRCT, CTRI, DRKS, EUCTR, ISRCTN
    title: str  # the public (brief) title
    official_title: str
    summary: str
    conditions: tuple[str, ...]
    interventions: tuple[str, ...]
    comparator: str
    primary_outcome: str
    secondary_outcome: str
    sponsor: str
    official: tuple[str, str]  # (first name, last name) of the principal investigator
    registered: str  # YYYY-MM-DD
    start: str  # YYYY-MM-DD
    status: str  # ClinicalTrials.gov's overallStatus
    phase: str  # PHASE2, PHASE3, PHASE4, NA
    enrollment: int
    allocation: str  # RANDOMIZED, NA
    model: str  # PARALLEL, CROSSOVER, SINGLE_GROUP
    masking: str  # NONE, DOUBLE, QUADRUPLE
    countries: tuple[str, ...]
    central_id: str = ""

    @property
    def year(self) -> int:
        return int(self.registered[:4])


Copy = Article | Registration


@dataclass
class Work:
    """One distinct publication or registration and the copies of it the five files hold."""

    copies: dict[str, Copy]  # file -> that file's version
    duplicate: str | None = None  # "auto", "queued", or None (one copy)
    trial: str | None = None
    screening: tuple[str, str] = (EXCLUDE, EXCLUDE)  # author1, author2
    resolution: str | None = None
    fulltext: tuple[str, str] | None = None  # (decision, reason)
    position: dict[str, int] = field(default_factory=dict)
    written_title: str = ""


# ---------------------------------------------------------------------------------------------------------------
# Data tables: journals, names, topics
# ---------------------------------------------------------------------------------------------------------------


def table_rows(text: str) -> list[list[str]]:
    """The rows of a text table: one per line, fields separated by "|"; an indented line continues the row
    above (long rows are wrapped)."""
    rows: list[str] = []
    for line in text.strip("\n").split("\n"):
        if line.startswith(" ") and rows:
            rows[-1] += " " + line.strip()
        elif line.strip():
            rows.append(line.strip())
    return [[field.strip() for field in row.split("|")] for row in rows]


# Words of NLM abbreviations that are themselves abbreviated: Embase writes them with a full stop ("J. Pain").
_ABBREVIATED = set(
    "J Can Eur Br Am Clin Med Anaesth Anesth Analg Reg Palliat Support Affect Disord Biol Paediatr Pediatr Emerg "
    "Neurosci Lett Pharmacol Mol Res Ann Acad Crit Oncol Manage Psychiatry".split()
)


def _journal(full: str, nlm: str, abbreviation: str, issn: str, country: str = "United States") -> Journal:
    dotted = " ".join(w + "." if w in _ABBREVIATED else w for w in abbreviation.split())
    return Journal(full, nlm, abbreviation, dotted, issn, country)


# Journals by the kind of record they publish: group | full name (Embase) | NLM title (MEDLINE) | NLM
# abbreviation | ISSN | country | volume in 2000 | volumes a year (roughly as the journal numbers them, so that a
# volume looks right for its year).
JOURNAL_TABLE = """
palliative | Journal of Pain and Symptom Management | Journal of pain and symptom management | J Pain Symptom Manage
    | 0885-3924 | United States | 19 | 2
palliative | Palliative Medicine | Palliative medicine | Palliat Med | 0269-2163 | United Kingdom | 14 | 1
palliative | Journal of Palliative Medicine | Journal of palliative medicine | J Palliat Med | 1096-6218 | United
    States | 3 | 1
palliative | Supportive Care in Cancer | Supportive care in cancer : official journal of the Multinational
    Association of Supportive Care in Cancer | Support Care Cancer | 0941-4355 | Germany | 8 | 1
palliative | BMJ Supportive and Palliative Care | BMJ supportive & palliative care | BMJ Support Palliat Care |
    2045-435X | United Kingdom | -10 | 1
oncology | Journal of Clinical Oncology | Journal of clinical oncology : official journal of the American Society of
    Clinical Oncology | J Clin Oncol | 0732-183X | United States | 18 | 1
oncology | Cancer | Cancer | Cancer | 0008-543X | United States | 88 | 2
oncology | European Journal of Cancer Care | European journal of cancer care | Eur J Cancer Care (Engl) | 0961-5423
    | United Kingdom | 9 | 1
oncology | The Oncologist | The oncologist | Oncologist | 1083-7159 | United States | 5 | 1
anaesthesia | Canadian Journal of Anaesthesia | Canadian journal of anaesthesia = Journal canadien d'anesthesie |
    Can J Anaesth | 0832-610X | Canada | 47 | 1
anaesthesia | Anesthesia and Analgesia | Anesthesia and analgesia | Anesth Analg | 0003-2999 | United States | 90 |
    2
anaesthesia | British Journal of Anaesthesia | British journal of anaesthesia | Br J Anaesth | 0007-0912 | United
    Kingdom | 84 | 2
anaesthesia | Anaesthesia | Anaesthesia | Anaesthesia | 0003-2409 | United Kingdom | 55 | 1
anaesthesia | European Journal of Anaesthesiology | European journal of anaesthesiology | Eur J Anaesthesiol |
    0265-0215 | United Kingdom | 17 | 1
anaesthesia | Regional Anesthesia and Pain Medicine | Regional anesthesia and pain medicine | Reg Anesth Pain Med |
    1098-7339 | United States | 25 | 1
pain | Pain | Pain | Pain | 0304-3959 | United States | 84 | 5
pain | European Journal of Pain | European journal of pain (London, England) | Eur J Pain | 1090-3801 | United
    Kingdom | 4 | 1
pain | Pain Medicine | Pain medicine (Malden, Mass.) | Pain Med | 1526-2375 | United States | 1 | 1
pain | Clinical Journal of Pain | The Clinical journal of pain | Clin J Pain | 0749-8047 | United States | 16 | 1
pain | Journal of Pain | The journal of pain | J Pain | 1526-5900 | United States | 1 | 1
psychiatry | American Journal of Psychiatry | The American journal of psychiatry | Am J Psychiatry | 0002-953X |
    United States | 157 | 1
psychiatry | Journal of Affective Disorders | Journal of affective disorders | J Affect Disord | 0165-0327 |
    Netherlands | 58 | 10
psychiatry | Biological Psychiatry | Biological psychiatry | Biol Psychiatry | 0006-3223 | United States | 47 | 2
psychiatry | Journal of Clinical Psychiatry | The Journal of clinical psychiatry | J Clin Psychiatry | 0160-6689 |
    United States | 61 | 1
paediatrics | Paediatric Anaesthesia | Paediatric anaesthesia | Paediatr Anaesth | 1155-5645 | France | 10 | 1
paediatrics | Pediatrics | Pediatrics | Pediatrics | 0031-4005 | United States | 105 | 2
paediatrics | Pediatric Emergency Care | Pediatric emergency care | Pediatr Emerg Care | 0749-5161 | United States |
    16 | 1
basic | Neuroscience Letters | Neuroscience letters | Neurosci Lett | 0304-3940 | Ireland | 280 | 20
basic | European Journal of Pharmacology | European journal of pharmacology | Eur J Pharmacol | 0014-2999 |
    Netherlands | 390 | 25
basic | Molecular Pain | Molecular pain | Mol Pain | 1744-8069 | United States | -4 | 1
basic | Brain Research | Brain research | Brain Res | 0006-8993 | Netherlands | 860 | 45
emergency | Annals of Emergency Medicine | Annals of emergency medicine | Ann Emerg Med | 0196-0644 | United States
    | 35 | 2
emergency | Academic Emergency Medicine | Academic emergency medicine : official journal of the Society for Academic
    Emergency Medicine | Acad Emerg Med | 1069-6563 | United States | 7 | 1
emergency | Critical Care Medicine | Critical care medicine | Crit Care Med | 0090-3493 | United States | 28 | 1
"""


def _journals(text: str) -> dict[str, list[tuple[Journal, int, int]]]:
    known = {j.abbreviation: j for j in (CAN_J_ANAESTH, J_PAIN_SYMPTOM_MANAGE, J_CLIN_ONCOL)}
    groups: dict[str, list[tuple[Journal, int, int]]] = {}
    for group, full, nlm, abbreviation, issn, country, v2000, per_year in table_rows(text):
        journal = known.get(abbreviation) or _journal(full, nlm, abbreviation, issn, country)
        groups.setdefault(group, []).append((journal, int(v2000), int(per_year)))
    return groups


JOURNALS = _journals(JOURNAL_TABLE)
CHINESE_JOURNAL = _journal(
    "Chinese Journal of Anesthesiology",
    "Zhonghua ma zui xue za zhi",
    "Zhonghua Ma Zui Xue Za Zhi",
    "0254-1416",
    "China",
)
VOLUMES = {j.abbreviation: (v2000, per_year) for group in JOURNALS.values() for j, v2000, per_year in group}
VOLUMES[CHINESE_JOURNAL.abbreviation] = (20, 1)


def volume_of(journal: Journal, year: int) -> int:
    """The journal's volume in that year (0 or less: the journal did not exist yet)."""
    v2000, per_year = VOLUMES[journal.abbreviation]
    return v2000 + (year - 2000) * per_year


def pick_journal(rng: random.Random, group: str, year: int) -> Journal:
    """A journal of the group that was published in that year."""
    return rng.choice([j for j, _v, _p in JOURNALS[group] if volume_of(j, year) >= 1])


SURNAMES = (
    "Abbott Adeyemi Ahmed Alvarez Andersen Aoki Arnaud Baker Banerjee Bauer Becker Bergstrom Bianchi Blanco "
    "Bosch Brennan Brooks Caldwell Campbell Castro Chaudhry Chen Cheng Christensen Clarke Costa Cruz Dahl "
    "Dalton Das Delgado Dubois Duncan Eriksson Esposito Evans Farouk Ferrari Fischer Fitzgerald Fontaine "
    "Fujita Gallagher Garcia Gauthier Gomez Graham Greco Gupta Hansen Harrison Hayashi Henriksen Hoffmann "
    "Hughes Ibrahim Iyer Jacobsen Jansen Jensen Kapoor Kato Keller Kim Klein Kowalski Kumar Lambert Larsen "
    "Laurent Lee Lindqvist Lopez Lund Maier Marino Martens Matsuda Mendes Meyer Mitchell Moreau Moreno "
    "Murphy Nakamura Nielsen Novak Nowak Oliveira Olsen Ortega Osei Park Patel Pereira Petersen Pham Quinlan "
    "Rahman Ramos Reddy Reyes Ricci Richter Romano Rossi Russo Sato Schmidt Schneider Schultz Silva Singh "
    "Sorensen Suzuki Tanaka Thompson Tran Turner Vargas Vogel Wagner Walsh Weber Wong Yamamoto Zhang Zhou "
    "Zimmermann Okafor Haddad Novotny Kovacs Sokolov Petrov Yilmaz Demir Aziz Mensah Obi Lindgren Virtanen"
).split()
INITIALS = "ABCDEFGHIJKLMNOPRSTVWY"
FIRST_NAMES = (
    "Anna Ben Carla David Elena Farid Grace Hiro Ingrid Jonas Kavya Luca Maria Nadia Omar Priya Rafael Sofia "
    "Tomas Uma Victor Wen Yusuf Zora"
).split()


@dataclass(frozen=True)
class Topic:
    """A kind of irrelevant record: its journals, populations, interventions, comparators and outcomes, and
    the MeSH/Emtree terms its records carry. Title patterns fill {p}opulation, {i}ntervention, {c}omparator,
    {o}utcome, {d}esign."""

    name: str
    journals: str
    populations: tuple[str, ...]
    interventions: tuple[str, ...]
    comparators: tuple[str, ...]
    outcomes: tuple[str, ...]
    designs: tuple[str, ...]
    background: tuple[str, ...]
    mesh: tuple[str, ...]
    emtree: tuple[str, ...]
    animal: bool = False


# The topics of the made-up records: "[name] journal group", then the lists a title is made from.
TOPIC_TABLE = """
[depression] psychiatry
populations: adults with treatment-resistant depression | older adults with major depressive disorder | patients
    with bipolar depression | veterans with post-traumatic stress disorder | inpatients with suicidal ideation | women
    with postpartum depression | outpatients with chronic depression | patients with obsessive-compulsive disorder
interventions: a single subanaesthetic ketamine infusion | six ketamine infusions over three weeks | intranasal
    esketamine | oral ketamine | ketamine-assisted psychotherapy | intramuscular ketamine | ketamine anaesthesia for
    electroconvulsive therapy
comparators: midazolam | saline placebo | electroconvulsive therapy | treatment as usual | propofol
outcomes: depressive symptoms at 24 hours | suicidal ideation | time to relapse | cognitive function | response and
    remission | sleep quality | anhedonia
designs: randomised controlled trial | open-label study | naturalistic cohort study | secondary analysis
background: Ketamine has rapid antidepressant effects, but how long they last is uncertain. | Many patients do not
    respond to two or more antidepressants. | Glutamatergic drugs are being studied as fast-acting treatments for mood
    disorders.
mesh: Antidepressive Agents/tu [Therapeutic Use] | Depressive Disorder, Treatment-Resistant/dt [Drug Therapy] |
    Ketamine/tu [Therapeutic Use] | Humans | Adult
emtree: *ketamine/dt [Drug Therapy] | *treatment resistant depression/dt [Drug Therapy] | human | adult | Montgomery
    Asberg Depression Rating Scale
[postoperative] anaesthesia
populations: adults undergoing lumbar spinal fusion | women undergoing caesarean delivery | patients undergoing
    total knee arthroplasty | patients undergoing laparoscopic bariatric surgery | adults undergoing cardiac surgery |
    patients undergoing video-assisted thoracoscopic surgery | opioid-tolerant patients undergoing back surgery |
    patients undergoing major abdominal surgery | elderly patients undergoing hip fracture surgery | adults undergoing
    day-case shoulder arthroscopy
interventions: intraoperative ketamine infusion | a low-dose ketamine bolus at induction | ketamine added to
    patient-controlled morphine | perioperative esketamine | ketamine and magnesium | ketamine-soaked wound infiltration
comparators: saline | no ketamine | dexmedetomidine | lidocaine infusion | morphine alone
outcomes: opioid consumption in the first 48 hours | chronic postsurgical pain at six months | postoperative
    delirium | pain scores at rest and on movement | quality of recovery | postoperative nausea and vomiting | time to
    first rescue analgesia
designs: randomised controlled trial | double-blind randomised trial | prospective cohort study | retrospective
    cohort study | dose-finding study
background: Opioid-sparing strategies may reduce adverse effects after surgery. | Severe acute pain after surgery
    predicts persistent postsurgical pain. | N-methyl-D-aspartate receptor antagonists may limit central sensitisation
    after surgery.
mesh: Pain, Postoperative/dt [Drug Therapy] | Analgesics/ad [Administration & Dosage] | Ketamine/ad [Administration
    & Dosage] | Humans | Female | Male | Middle Aged
emtree: *postoperative pain/dt [Drug Therapy] | *ketamine/cb [Drug Combination] | human | adult | morphine |
    patient-controlled analgesia
[children] paediatrics
populations: children undergoing tonsillectomy | children with forearm fractures in the emergency department |
    infants undergoing inguinal hernia repair | children with burns needing dressing changes | children having MRI under
    sedation | adolescents undergoing scoliosis surgery | children undergoing dental extraction | children
    needing laceration repair
interventions: intranasal ketamine | intravenous ketamine sedation | low-dose ketamine | oral ketamine premedication |
    ketamine and propofol | nebulised ketamine
comparators: intranasal fentanyl | midazolam | propofol alone | placebo | morphine
outcomes: emergence agitation | sedation adequacy | pain scores after surgery | parental satisfaction | recovery
    time | respiratory adverse events
designs: randomised controlled trial | prospective observational study | retrospective review | non-inferiority
    randomised trial
background: Painful procedures are frequent in children and are often undertreated. | Ketamine preserves airway
    reflexes and is widely used for paediatric sedation. | Non-invasive routes avoid an intravenous cannula in
    frightened children.
mesh: Child | Child, Preschool | Ketamine/ad [Administration & Dosage] | Conscious Sedation/mt [Methods] | Humans
emtree: child | preschool child | *ketamine/dt [Drug Therapy] | *procedural sedation | human
[chronic_pain] pain
populations: patients with complex regional pain syndrome | women with fibromyalgia | patients with chronic low back
    pain | patients with painful diabetic neuropathy | patients with phantom limb pain | patients with spinal cord
    injury pain | adults with chronic migraine | patients with postherpetic neuralgia | patients with chronic
    pancreatitis
interventions: outpatient ketamine infusions | a five-day ketamine infusion | oral ketamine | topical ketamine cream
    | sublingual ketamine | ketamine and memantine
comparators: placebo | lidocaine infusion | usual care | midazolam | amitriptyline
outcomes: pain intensity at three months | disability | quality of life | allodynia | analgesic consumption | return
    to work | psychomimetic adverse effects
designs: randomised controlled trial | crossover trial | retrospective case series | cohort study | open-label
    extension
background: Central sensitisation contributes to many chronic pain conditions. | Chronic non-cancer pain is common
    and often resistant to standard analgesics. | Ketamine infusions are increasingly offered in pain clinics with
    little evidence.
mesh: Chronic Pain/dt [Drug Therapy] | Ketamine/tu [Therapeutic Use] | Neuralgia/dt [Drug Therapy] | Humans | Adult
emtree: *chronic pain/dt [Drug Therapy] | *ketamine/dt [Drug Therapy] | neuropathic pain | human | adult
[animal] basic animal
populations: a rat model of bone cancer pain | mice with chemotherapy-induced neuropathy | rats with spared nerve
    injury | a mouse model of morphine tolerance | rats after incisional surgery | a murine model of inflammatory pain |
    rats with spinal cord injury
interventions: intrathecal ketamine | repeated systemic ketamine | ketamine metabolites | an NMDA receptor
    antagonist | low-dose ketamine with morphine | spinal MK-801
comparators: vehicle | saline | morphine alone | gabapentin
outcomes: mechanical allodynia | spinal microglial activation | dorsal horn NR2B expression | morphine
    antinociceptive tolerance | thermal hyperalgesia | conditioned place preference
designs: experimental study | behavioural and molecular study | in vivo study
background: Animal models help explain how opioid tolerance develops. | Spinal NMDA receptors are implicated in
    persistent pain states. | The mechanisms of cancer-induced bone pain differ from those of inflammatory pain.
mesh: Animals | Male | Disease Models, Animal | Receptors, N-Methyl-D-Aspartate/me [Metabolism] | Spinal Cord
emtree: animal experiment | animal model | nonhuman | *n methyl dextro aspartic acid receptor | male
[opioids_cancer] oncology
populations: patients with moderate to severe cancer pain | outpatients with breakthrough cancer pain | patients
    with cancer pain and renal impairment | opioid-naive patients with cancer pain | patients with bone metastases |
    hospice patients with cancer pain | patients with pancreatic cancer pain | patients with head and neck cancer pain
interventions: oral methadone | transdermal buprenorphine | oxycodone-naloxone | hydromorphone | sublingual fentanyl
    | low-dose morphine | tapentadol | opioid rotation to methadone
comparators: oral morphine | transdermal fentanyl | oxycodone | weak opioids | usual care
outcomes: pain relief at day 7 | constipation | time to stable pain control | costs of care | nausea and
    drowsiness | breakthrough pain episodes
designs: randomised controlled trial | prospective cohort study | retrospective study | cross-over trial |
    multicentre observational study
background: Strong opioids are the mainstay of treatment for moderate to severe cancer pain. | Which opioid to start
    and when to switch are still debated. | Up to one patient in five with cancer pain does not get adequate relief from
    the first opioid.
mesh: Analgesics, Opioid/tu [Therapeutic Use] | Cancer Pain/dt [Drug Therapy] | Neoplasms/co [Complications] |
    Humans | Aged
emtree: *cancer pain/dt [Drug Therapy] | *opiate/dt [Drug Therapy] | human | aged | constipation/si [Side Effect]
[adjuvants_cancer] palliative
populations: patients with neuropathic cancer pain | patients with cancer-induced bone pain | patients with
    chemotherapy-induced peripheral neuropathy | patients with malignant bowel obstruction | patients with advanced
    cancer and pain | patients with cancer pain in the last weeks of life
interventions: pregabalin | gabapentin | duloxetine | dexamethasone | intravenous lidocaine | nabiximols | magnesium
    sulfate | methylphenidate | zoledronic acid
comparators: placebo | amitriptyline | opioid titration alone | best supportive care
outcomes: average pain intensity | opioid dose | sleep interference | quality of life | patient global impression of
    change | time to pain progression
designs: randomised controlled trial | double-blind randomised trial | phase II trial | pragmatic trial
background: Adjuvant analgesics are often added when opioids alone do not control cancer pain. | Neuropathic
    mechanisms contribute to about a third of cancer pain. | The evidence for adjuvant analgesics in cancer pain comes
    mostly from non-cancer pain.
mesh: Analgesics/tu [Therapeutic Use] | Cancer Pain/dt [Drug Therapy] | Neoplasms | Humans | Randomized Controlled
    Trials as Topic
emtree: *cancer pain/dt [Drug Therapy] | *analgesic agent/dt [Drug Therapy] | human | randomized controlled trial |
    adult
[ketamine_other] emergency
populations: agitated patients in the prehospital setting | adults with status epilepticus | mechanically ventilated
    adults in intensive care | adults with acute severe asthma | patients with alcohol withdrawal | trauma patients
    needing rapid sequence intubation | adults with renal colic in the emergency department | patients with acute
    traumatic pain
interventions: intramuscular ketamine | ketamine infusion | ketamine for induction | low-dose ketamine | ketamine as
    an adjunct to sedation | intranasal ketamine
comparators: haloperidol | etomidate | propofol | intravenous morphine | benzodiazepines
outcomes: time to adequate sedation | intubation rates | 28-day mortality | pain relief at 30 minutes | length of
    stay | emergence reactions
designs: randomised controlled trial | retrospective cohort study | prospective observational study |
    before-and-after study
background: Ketamine is used more and more outside the operating theatre. | Rapid control of agitation protects
    patients and staff. | Haemodynamic stability makes ketamine attractive in critically ill patients.
mesh: Ketamine/tu [Therapeutic Use] | Emergency Service, Hospital | Humans | Adult | Anesthetics, Dissociative/ad
    [Administration & Dosage]
emtree: *ketamine/dt [Drug Therapy] | emergency ward | human | adult | sedation
"""


# ---------------------------------------------------------------------------------------------------------------
# Making up records
# ---------------------------------------------------------------------------------------------------------------


class Maker:
    """Draws records from the tables, keeping every made-up title clearly different from all others (so that
    only the intended copies look alike to the deduplicator) and every identifier and page unique."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.titles: list[str] = []
        self.used: set[str] = set()
        for trial in INCLUDED_TRIALS:
            self.remember(trial.title)
            self.used.update(
                {trial.pmid, trial.doi.lower(), f"{trial.journal.abbreviation} {trial.volume} {trial.first_page}"}
            )

    # -- uniqueness ------------------------------------------------------------------------------------------

    @staticmethod
    def _words(title: str) -> str:
        return " ".join("".join(c if c.isalnum() else " " for c in title.lower()).split())

    def distinct(self, title: str) -> bool:
        """Far enough from every title so far: a clearly lower similarity than the deduplicator's thresholds
        (0.75 for a queued pair), and not mostly contained in another."""
        words = self._words(title)
        mine = set(words.split())
        for other in self.titles:
            if fuzz.ratio(words, other) >= 70:
                return False
            theirs = set(other.split())
            if len(mine & theirs) >= 0.8 * min(len(mine), len(theirs)) and fuzz.partial_ratio(words, other) >= 90:
                return False
        return True

    def remember(self, title: str) -> None:
        self.titles.append(self._words(title))

    def fresh(self, make: Callable[[], str]) -> str:
        """A value not used before (identifiers, page numbers)."""
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value

    def pmid(self) -> str:
        return self.fresh(lambda: str(self.rng.randint(90_000_000, 99_999_999)))

    def embase_id(self, year: int) -> str:
        low = 600_000_000 if year >= 2010 else 300_000_000
        return self.fresh(lambda: str(self.rng.randint(low, low + 99_999_999)))

    def central_id(self) -> str:
        return self.fresh(lambda: f"CN-09{self.rng.randint(0, 999_999):06d}")

    def doi(self, journal: Journal, year: int) -> str:
        code = "".join(w[0] for w in journal.abbreviation.split() if w[0].isalpha()).lower()
        return self.fresh(lambda: f"10.5555/{code}.{year}.{self.rng.randint(100, 9999):04d}")

    # -- pieces ----------------------------------------------------------------------------------------------

    def authors(self, count: int | None = None) -> tuple[Author, ...]:
        rng = self.rng
        count = count or rng.choice((1, 2, 3, 3, 4, 4, 5, 5, 6, 7, 8))
        names = rng.sample(SURNAMES, count)
        return tuple(Author(name, "".join(rng.sample(INITIALS, rng.choice((1, 1, 2))))) for name in names)

    def place(self, journal: Journal, year: int, span: tuple[int, int] = (5, 12)) -> dict:
        rng = self.rng
        volume = str(volume_of(journal, year))
        first = int(self.fresh(lambda: f"{journal.abbreviation} {volume} {rng.randint(20, 2400)}").rsplit(" ", 1)[1])
        return {
            "volume": volume,
            "issue": str(rng.randint(1, 12)),
            "first_page": str(first),
            "last_page": str(first + rng.randint(*span)),
        }

    # -- a made-up article -----------------------------------------------------------------------------------

    def article(self, topic: Topic, *, trial_design: bool = False, kind: str = "article") -> Article:
        rng = self.rng
        for _ in range(500):
            p, i, c, o = (
                rng.choice(t) for t in (topic.populations, topic.interventions, topic.comparators, topic.outcomes)
            )
            d = "randomised controlled trial" if trial_design else rng.choice(topic.designs)
            if kind == "review":
                title = rng.choice(REVIEW_TITLES).format(p=p, i=i, c=c, o=o, d=d)
            else:
                title = rng.choice(ANIMAL_TITLES if topic.animal else TITLES).format(p=p, i=i, c=c, o=o, d=d)
            title = title[0].upper() + title[1:]
            if self.distinct(title):
                break
        else:  # pragma: no cover - the tables are large enough
            raise RuntimeError(f"no distinct title left for topic {topic.name}")
        self.remember(title)
        year = rng.randint(1994, 2025) if not topic.animal else rng.randint(2000, 2025)
        journal = pick_journal(rng, topic.journals, year)
        abstract = (review_abstract if kind == "review" else animal_abstract if topic.animal else trial_abstract)(
            rng, topic, p, i, c, o, d, conference=kind == "conference"
        )
        extra = (
            self.place(journal, year)
            if kind != "conference"
            else {"volume": str(volume_of(journal, year)), "issue": f"{rng.randint(1, 6)} SUPPL. 1"}
        )
        return Article(
            title=title,
            abstract=abstract,
            authors=self.authors(),
            year=year,
            journal=journal,
            doi="" if kind == "conference" or (year < 2002 and rng.random() < 0.6) else self.doi(journal, year),
            kind=kind,
            mesh=topic.mesh,
            emtree=topic.emtree + (("conference abstract",) if kind == "conference" else ()),
            title_case=rng.random() < 0.12,
            **extra,
        )


def _topics(text: str) -> list[Topic]:
    """Topics from TOPIC_TABLE: a "[name] journals [animal]" line, then "field: value | value …" lines."""
    topics: list[Topic] = []
    fields: dict[str, tuple[str, ...]] = {}
    head: list[str] = []
    for row in table_rows(text) + [["[end]"]]:
        if row[0].startswith("["):
            if head:
                name, journals, *flags = head
                topics.append(Topic(name.strip("[]"), journals, animal="animal" in flags, **fields))  # type: ignore[arg-type]
            head, fields = row[0].split(), {}
        else:
            key, first = row[0].split(": ", 1)
            fields[key] = (first, *row[1:])
    return topics


TOPICS = _topics(TOPIC_TABLE)

TITLES = (
    "{i} for {p}: a {d}",
    "{i} versus {c} in {p}",
    "Effect of {i} on {o} in {p}",
    "{o} after {i} in {p}: a {d}",
    "Can {i} improve {o} in {p}? A {d}",
    "{i} compared with {c} for {o} in {p}",
    "Factors associated with {o} after {i} in {p}",
    "{o} in {p} given {i} or {c}",
    "{o} with {i} or {c} in {p}: a {d}",
    "Safety and efficacy of {i} in {p}",
)
ANIMAL_TITLES = (
    "{i} attenuates {o} in {p}",
    "Effects of {i} on {o} in {p}",
    "{o} and its modulation by {i} in {p}",
    "Role of spinal NMDA receptors in {o}: evidence from {i} in {p}",
)
REVIEW_TITLES = (
    "{i} for {p}: a systematic review and meta-analysis",
    "{i} in {p}: a narrative review",
    "Clinical practice guideline on {i} for {p}",
    "What is the evidence for {i} in {p}? An overview of reviews",
)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _n(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high)


def trial_abstract(
    rng: random.Random, topic: Topic, p: str, i: str, c: str, o: str, d: str, *, conference: bool = False
) -> str:
    n = _n(rng, 24, 420)
    lower = rng.uniform(0.2, 1.6)
    better = rng.random() < 0.5
    background = rng.choice(topic.background)
    methods = (
        f"In this {d}, {n} {p} received {i} or {c}. The primary outcome was {o}."
        if "random" in d or "trial" in d
        else f"We analysed {n} {p} who received {i} ({rng.randint(20, 80)}%) or {c}; the main outcome was {o}."
    )
    harms = rng.choice(
        (
            "Adverse events were similar in both groups.",
            f"Dizziness or nausea was reported by {rng.randint(2, 30)} participants.",
            f"{rng.randint(1, 9)} participants withdrew because of adverse effects.",
        )
    )
    if better:
        results = (
            f"Results for {o} favoured {i} over {c} (mean difference {lower:.1f}; 95% CI {lower / 2:.1f} to "
            f"{lower * 1.5:.1f}). {harms}"
        )
        conclusion = f"{_capital(i)} had a beneficial effect on {o} in {p}; larger trials should confirm this."
    else:
        results = f"There was no clear difference in {o} between the groups (P = {rng.uniform(0.12, 0.9):.2f}). {harms}"
        conclusion = f"{_capital(i)} did not change {o} in {p}."
    if conference:
        return f"Background: {background} Methods: {methods} Results: {results} Conclusion: {conclusion}"
    return f"BACKGROUND: {background} METHODS: {methods} RESULTS: {results} CONCLUSIONS: {conclusion}"


def animal_abstract(
    rng: random.Random, topic: Topic, p: str, i: str, c: str, o: str, d: str, *, conference: bool = False
) -> str:
    n = _n(rng, 24, 96)
    return (
        f"{rng.choice(topic.background)} We studied {o} in {p} (n = {n}) treated with {i} or {c}. "
        f"{_capital(i)} {'reduced' if rng.random() < 0.7 else 'did not change'} {o} for up to "
        f"{rng.randint(2, 21)} days, and Western blotting showed {'lower' if rng.random() < 0.5 else 'unchanged'} "
        f"spinal NR2B expression. These findings suggest a role of spinal NMDA receptors in {o}."
    )


def review_abstract(
    rng: random.Random, topic: Topic, p: str, i: str, c: str, o: str, d: str, *, conference: bool = False
) -> str:
    k = _n(rng, 4, 40)
    return (
        f"{rng.choice(topic.background)} We searched MEDLINE, Embase and CENTRAL to {rng.randint(2005, 2024)} and "
        f"found {k} studies of {i} in {p}, most of them small and at high risk of bias. Evidence on {o} was of "
        f"{rng.choice(('low', 'very low', 'moderate'))} certainty. Well-designed trials are needed."
    )


# ---------------------------------------------------------------------------------------------------------------
# Hand-written works: the included trials and the records that look relevant at title/abstract
# ---------------------------------------------------------------------------------------------------------------

INCLUDED_ABSTRACTS = {
    "Yang 1996": (
        "PURPOSE: To find out whether intrathecal ketamine added to intrathecal morphine lowers the morphine "
        "needed by patients with terminal cancer pain. METHODS: Twenty patients with terminal cancer pain "
        "treated with intrathecal morphine took part in a randomised crossover comparison of intrathecal "
        "ketamine with morphine against morphine alone. Pain scores, morphine requirements and adverse effects "
        "were recorded. RESULTS: Morphine requirements were lower when ketamine was added, with similar pain "
        "relief. CONCLUSION: Intrathecal ketamine may reduce the morphine requirements of patients with "
        "terminal cancer pain."
    ),
    "Mercadante 2000": (
        "Ten patients with cancer pain not relieved by morphine took part in a randomised, double-blind, "
        "controlled crossover study. On three days they received, in random order, intravenous ketamine "
        "0.25 mg/kg, ketamine 0.5 mg/kg or saline placebo, added to their morphine. Pain intensity fell after "
        "both doses of ketamine, more with the higher dose. Hallucinations occurred in four of the ten "
        "patients and drowsiness was more frequent with ketamine. Ketamine may help patients whose cancer pain "
        "responds poorly to morphine, but its adverse effects need watching."
    ),
    "Hardy 2012": (
        "PURPOSE: Ketamine is widely used as an adjuvant to opioids for cancer pain on little evidence. We "
        "assessed the net effect of subcutaneous ketamine in adults with chronic cancer pain. PATIENTS AND "
        "METHODS: In a multisite, randomised, double-blind, placebo-controlled parallel-group trial, 185 "
        "adults whose cancer pain was not controlled by opioids and adjuvants received a five-day "
        "subcutaneous infusion of ketamine at escalating doses or of saline, with their usual opioids. The "
        "primary outcome was a positive response (a fall in average pain without more breakthrough "
        "analgesia). RESULTS: Responses were similar in the two groups, and adverse events were about twice "
        "as frequent with ketamine. CONCLUSION: Ketamine added to opioids gave no net clinical benefit in "
        "this population."
    ),
}
INCLUDED_MESH = (
    "Adult",
    "Analgesics, Opioid/ad [Administration & Dosage]",
    "Cancer Pain/dt [Drug Therapy]",
    "Excitatory Amino Acid Antagonists/ad [Administration & Dosage]",
    "Humans",
    "*Ketamine/ad [Administration & Dosage]",
    "Morphine/ad [Administration & Dosage]",
    "*Neoplasms/co [Complications]",
)
INCLUDED_EMTREE = (
    "adult",
    "*cancer pain/dt [Drug Therapy]",
    "human",
    "*ketamine/cb [Drug Combination]",
    "*morphine/cb [Drug Combination]",
    "randomized controlled trial",
    "drug efficacy",
)


def included_article(trial: IncludedTrial, maker: Maker) -> Article:
    return Article(
        title=trial.title,
        abstract=INCLUDED_ABSTRACTS[trial.label],
        authors=trial.authors,
        year=trial.year,
        journal=trial.journal,
        volume=trial.volume,
        issue=trial.issue,
        first_page=trial.first_page,
        last_page=trial.last_page,
        doi=trial.doi,
        pmid=trial.pmid,
        mesh=INCLUDED_MESH,
        emtree=INCLUDED_EMTREE,
        registry_id=trial.registry_id,
    )


@dataclass(frozen=True)
class Relevant:
    """A made-up record that looks relevant at title/abstract, and how the review treats it."""

    title: str
    abstract: str
    pattern: str  # files that hold it: letters of PATTERN_FILES
    journals: str
    year: int
    screening: tuple[str, str]
    resolution: str | None = None
    fulltext: tuple[str, str] | None = None
    kind: str = "article"


RELEVANT = (
    Relevant(
        "Oral ketamine as an adjuvant to opioids for neuropathic cancer pain: an open-label prospective case series",
        "BACKGROUND: Neuropathic cancer pain often responds poorly to opioids. METHODS: Twenty-six consecutive "
        "patients on stable opioid doses took oral ketamine 10 to 25 mg four times daily for two weeks, without a "
        "control group. RESULTS: Average pain fell from 6.8 to 4.1; seven patients stopped ketamine because of "
        "dizziness or vivid dreams. CONCLUSIONS: Oral ketamine may help some patients; a randomised trial is needed.",
        "ME",
        "palliative",
        2009,
        (MAYBE, EXCLUDE),
        INCLUDE,
        (EXCLUDE, WRONG_DESIGN),
    ),
    Relevant(
        "Burst intravenous ketamine for opioid-refractory pain in a palliative care unit: a retrospective cohort",
        "We reviewed the notes of 64 inpatients with advanced cancer who received a three-to-five-day 'burst' of "
        "intravenous ketamine for pain not controlled by opioids. Pain scores fell in 41 patients, and opioid "
        "doses were lower a week later. Confusion occurred in nine patients.",
        "E",
        "palliative",
        2014,
        (INCLUDE, EXCLUDE),
        EXCLUDE,
    ),
    Relevant(
        "Ketamine infusion with morphine for refractory cancer pain: a pilot randomised double-blind crossover study",
        "BACKGROUND: Small studies suggest that ketamine improves opioid-refractory cancer pain. METHODS: Twelve "
        "inpatients receiving morphine were randomised to a 24-hour ketamine infusion or saline, then crossed "
        "over; eight completed both periods. RESULTS: Pain scores were lower with ketamine in six of the eight. "
        "CONCLUSIONS: A larger trial is feasible.",
        "MEC",
        "palliative",
        2004,
        (INCLUDE, INCLUDE),
        None,
        (EXCLUDE, TOO_FEW),
    ),
    Relevant(
        "Low-dose ketamine added to opioids for procedural pain in children with leukaemia: a randomised trial",
        "BACKGROUND: Bone marrow aspiration and lumbar puncture are distressing for children with leukaemia. "
        "METHODS: Eighty children aged 3 to 14 were randomised to low-dose ketamine or saline added to intranasal "
        "fentanyl. RESULTS: Pain and distress scores were lower with ketamine. CONCLUSIONS: Ketamine improves "
        "procedural analgesia in children with cancer.",
        "MC",
        "paediatrics",
        2011,
        (INCLUDE, EXCLUDE),
        EXCLUDE,
    ),
    Relevant(
        "Intranasal ketamine versus intranasal fentanyl for breakthrough cancer pain: a randomised crossover trial",
        "BACKGROUND: Breakthrough pain is common in patients on regular opioids. METHODS: Forty-two patients "
        "treated two episodes each, one with intranasal ketamine and one with intranasal fentanyl, in random "
        "order. RESULTS: Pain relief at 30 minutes was similar; dissociative symptoms were more frequent with "
        "ketamine. CONCLUSIONS: Intranasal ketamine may be an alternative to fentanyl for breakthrough pain.",
        "MEC",
        "palliative",
        2019,
        (INCLUDE, MAYBE),
        None,
        (EXCLUDE, WRONG_COMPARATOR),
    ),
    Relevant(
        "Dextromethorphan added to morphine for cancer pain: a randomised placebo-controlled trial",
        "BACKGROUND: Dextromethorphan, an NMDA receptor antagonist, may enhance opioid analgesia. METHODS: "
        "Sixty-five patients taking oral morphine for cancer pain received dextromethorphan or placebo for two "
        "weeks. RESULTS: Morphine use and pain scores did not differ. CONCLUSIONS: Dextromethorphan did not "
        "reduce morphine requirements.",
        "ME",
        "oncology",
        2003,
        (MAYBE, EXCLUDE),
        EXCLUDE,
    ),
    Relevant(
        "Ketamine for depression in patients receiving palliative care for advanced cancer: a randomised trial",
        "BACKGROUND: Depression is common in advanced cancer and antidepressants act slowly. METHODS: Fifty "
        "hospice patients with depression, most taking opioids for pain, were randomised to oral ketamine or "
        "placebo for four weeks. The primary outcome was the depression score; pain was not measured. RESULTS: "
        "Depression scores improved more with ketamine. CONCLUSIONS: Oral ketamine may relieve depression in "
        "palliative care.",
        "MEC",
        "palliative",
        2017,
        (INCLUDE, EXCLUDE),
        INCLUDE,
        (EXCLUDE, WRONG_OUTCOME),
    ),
    Relevant(
        "NMDA receptor antagonists as adjuvants to opioids in cancer pain: a systematic review",
        "We searched for trials of ketamine, dextromethorphan, memantine and amantadine added to opioids for "
        "cancer pain. Eleven small trials were found, with inconsistent results and frequent psychomimetic "
        "adverse effects. The evidence is insufficient to recommend these drugs routinely.",
        "ME",
        "palliative",
        2013,
        (MAYBE, MAYBE),
        None,
        (EXCLUDE, WRONG_DESIGN),
        "review",
    ),
    Relevant(
        "Ketamine in palliative care: a survey of prescribing practice in hospices",
        "Background: Ketamine is prescribed for pain in palliative care with little guidance. Methods: We sent a "
        "questionnaire to 120 hospices. Results: Eighty-four replied; 71 had used ketamine for cancer pain in the "
        "past year, by five different routes. Conclusion: Practice varies widely.",
        "E",
        "palliative",
        2016,
        (MAYBE, EXCLUDE),
        EXCLUDE,
        None,
        "conference",
    ),
    Relevant(
        "Ketamine for postoperative pain after mastectomy for breast cancer: a randomised controlled trial",
        "BACKGROUND: Many women have persistent pain after breast cancer surgery. METHODS: One hundred and ten "
        "women undergoing mastectomy were randomised to intraoperative ketamine or saline. RESULTS: Morphine use "
        "in the first 24 hours was lower with ketamine; chronic pain at six months did not differ. CONCLUSIONS: "
        "Ketamine reduced early opioid consumption after mastectomy.",
        "M",
        "anaesthesia",
        2015,
        (INCLUDE, EXCLUDE),
        EXCLUDE,
    ),
    Relevant(
        "Topical ketamine and amitriptyline for chemotherapy-induced peripheral neuropathy: a randomised "
        "placebo-controlled trial",
        "BACKGROUND: Chemotherapy-induced neuropathy is painful and has few treatments. METHODS: Four hundred and "
        "sixty patients with neuropathy after chemotherapy applied a cream of ketamine and amitriptyline or "
        "placebo for six weeks. RESULTS: Neuropathy scores changed little in either group. CONCLUSIONS: The cream "
        "did not help.",
        "MEC",
        "oncology",
        2014,
        (INCLUDE, EXCLUDE),
        INCLUDE,
        (EXCLUDE, WRONG_POPULATION),
    ),
    Relevant(
        "Epidural ketamine combined with morphine for intractable cancer pain",
        "Forty patients with intractable cancer pain were randomly allocated to epidural morphine with or without "
        "ketamine. Pain relief lasted longer in the ketamine group. (Abstract translated from Chinese.)",
        "ME",
        "chinese",
        1998,
        (INCLUDE, INCLUDE),
        None,
        ("not_retrieved", ""),
    ),
)

# The two queued pairs: (the pair's copies differ so much that the deduplicator asks a person).
CONFERENCE_PAIR = Relevant(
    "Subcutaneous ketamine added to methadone for opioid-refractory cancer pain: a randomised controlled trial",
    "BACKGROUND: Methadone and ketamine both act on NMDA receptors. METHODS: Patients with cancer pain not "
    "controlled by methadone were allocated to a subcutaneous ketamine infusion or saline in alternate weeks "
    "of admission. RESULTS: Pain relief was better with ketamine. CONCLUSIONS: Ketamine may augment methadone.",
    "EM",
    "palliative",
    2016,
    (INCLUDE, INCLUDE),
    None,
    (EXCLUDE, WRONG_DESIGN),
)
IN_PRESS_PAIR = Relevant(
    "Ketamine mouthwash for oral mucositis pain during chemoradiotherapy for head and neck cancer: a randomised trial",
    "BACKGROUND: Mucositis pain during chemoradiotherapy needs high opioid doses. METHODS: Seventy-two patients "
    "with painful mucositis used a ketamine or placebo mouthwash four times daily for a week. RESULTS: Pain on "
    "swallowing fell more with ketamine. CONCLUSIONS: Ketamine mouthwash may reduce mucositis pain.",
    "ME",
    "oncology",
    2018,
    (INCLUDE, EXCLUDE),
    INCLUDE,
    (EXCLUDE, WRONG_POPULATION),
)


def relevant_article(item: Relevant, maker: Maker) -> Article:
    rng = maker.rng
    maker.remember(item.title)
    if item.journals == "chinese":
        journal = CHINESE_JOURNAL
    else:
        journal = pick_journal(rng, item.journals, item.year)
    place = (
        maker.place(journal, item.year)
        if item.kind != "conference"
        else {"volume": str(volume_of(journal, item.year)), "issue": "3 SUPPL. 1"}
    )
    return Article(
        title=item.title,
        abstract=item.abstract,
        authors=maker.authors(rng.randint(3, 7)),
        year=item.year,
        journal=journal,
        doi=maker.doi(journal, item.year) if item.kind != "conference" and item.year >= 2002 else "",
        kind=item.kind,
        mesh=INCLUDED_MESH[:4] + ("Humans",),
        emtree=INCLUDED_EMTREE[:5],
        language="Chinese" if item.journals == "chinese" else "English",
        **place,
    )


# Registrations: the relevant ones written by hand, the rest from templates.
@dataclass(frozen=True)
class RelevantRegistration:
    pattern: str  # T (ClinicalTrials.gov), I (ICTRP), C (CENTRAL)
    registry_id: str
    register: str
    title: str
    official_title: str
    summary: str
    design: tuple[str, str, str, int]  # allocation, model, masking, enrollment
    status: str
    registered: str
    screening: tuple[str, str]
    resolution: str | None = None
    fulltext: tuple[str, str] | None = None
    trial: str | None = None
    countries: tuple[str, ...] = ("United States",)


RELEVANT_REGISTRATIONS = (
    RelevantRegistration(
        "I",
        HARDY_2012.registry_id,
        "ANZCTR",
        "Subcutaneous ketamine infusion as an addition to opioids for adults with persistent pain due to cancer",
        "A multicentre, randomised, double-blind, placebo-controlled, dose-titration study of subcutaneous "
        "ketamine for cancer pain that does not respond to opioids and adjuvants",
        "",
        ("RANDOMIZED", "PARALLEL", "QUADRUPLE", 185),
        "COMPLETED",
        "2007-09-24",
        (INCLUDE, MAYBE),
        None,
        (INCLUDE, ""),
        HARDY_2012.label,
        ("Australia",),
    ),
    RelevantRegistration(
        "TI",
        "NCT09412207",
        "ClinicalTrials.gov",
        "Oral Ketamine for Opioid-Refractory Cancer Pain",
        "A Single-Arm Phase II Study of Oral Ketamine Added to Opioids in Adults With Refractory Cancer Pain",
        "This single-group study gives oral ketamine to adults whose cancer pain is not controlled by opioids, "
        "to estimate the response rate and the adverse effects before a randomised trial.",
        ("NA", "SINGLE_GROUP", "NONE", 40),
        "COMPLETED",
        "2016-05-11",
        (INCLUDE, MAYBE),
        None,
        (EXCLUDE, WRONG_DESIGN),
    ),
    RelevantRegistration(
        "TIC",
        "NCT09288014",
        "ClinicalTrials.gov",
        "Ketamine Versus Placebo as an Adjuvant to Opioids in Cancer Pain (KAPPA)",
        "A Randomized Double-Blind Placebo-Controlled Trial of Intravenous Ketamine Added to Opioids for "
        "Moderate to Severe Cancer Pain",
        "Adults with cancer pain of 5 or more out of 10 despite opioids are randomised to a 48-hour intravenous "
        "ketamine infusion or saline. The study was stopped early because of slow recruitment after 6 "
        "participants.",
        ("RANDOMIZED", "PARALLEL", "QUADRUPLE", 6),
        "TERMINATED",
        "2013-02-19",
        (INCLUDE, INCLUDE),
        None,
        (EXCLUDE, TOO_FEW),
        None,
        ("Canada",),
    ),
    RelevantRegistration(
        "I",
        "ChiCTR2699000417",
        "ChiCTR",
        "Esketamine or dexmedetomidine added to hydromorphone patient-controlled analgesia for cancer pain",
        "A randomised controlled trial comparing esketamine with dexmedetomidine as adjuvants to hydromorphone "
        "PCA in patients with moderate to severe cancer pain",
        "",
        ("RANDOMIZED", "PARALLEL", "DOUBLE", 120),
        "RECRUITING",
        "2023-06-02",
        (INCLUDE, INCLUDE),
        None,
        (EXCLUDE, WRONG_COMPARATOR),
        None,
        ("China",),
    ),
)

# Made-up registrations (all irrelevant): title | official title | condition | intervention | comparator.
REGISTRY_TABLE = """
Ketamine for Treatment-Resistant Depression in {where} | Repeated Ketamine Infusions Versus Midazolam for
    Treatment-Resistant Depression | Treatment-resistant Depression | Ketamine | Midazolam
Esketamine Nasal Spray in Older Adults With Major Depression ({acronym}) | A Phase 4 Study of Intranasal Esketamine
    in Adults Over 65 With Major Depressive Disorder | Major Depressive Disorder | Esketamine | Placebo nasal spray
Intraoperative Ketamine and Persistent Pain After Spine Surgery | Effect of Intraoperative Ketamine Infusion on
    Chronic Pain Six Months After Lumbar Fusion | Postoperative Pain | Ketamine | Saline
Ketamine for Post-Caesarean Analgesia in {where} | Low-Dose Ketamine Bolus Versus Placebo After Caesarean Section
    Under Spinal Anaesthesia | Pain, Postoperative | Ketamine | Normal saline
Intranasal Ketamine for Limb Fractures in Children | Intranasal Ketamine Versus Intranasal Fentanyl for Pain From
    Limb Injuries in Children Aged 4 to 17 | Fracture Pain | Ketamine | Fentanyl
Ketamine Infusion for Complex Regional Pain Syndrome | Outpatient Ketamine Infusions for Complex Regional Pain
    Syndrome Type 1 | Complex Regional Pain Syndromes | Ketamine | Lidocaine
Methadone Versus Morphine as First-Line Opioid for Cancer Pain | An Open-Label Randomised Trial of Methadone or
    Morphine as the First Strong Opioid in Cancer Pain | Cancer Pain | Methadone | Morphine
Duloxetine for Neuropathic Pain in Patients With Cancer | Duloxetine Versus Pregabalin for Neuropathic Cancer Pain:
    a Randomised Trial | Neuropathic Cancer Pain | Duloxetine | Pregabalin
Ketamine Versus Etomidate for Emergency Intubation | Ketamine or Etomidate for Rapid Sequence Intubation in
    Critically Ill Adults | Respiratory Failure | Ketamine | Etomidate
Ketamine for Agitation in the Prehospital Setting | Intramuscular Ketamine Versus Haloperidol Plus Midazolam for
    Severe Agitation | Psychomotor Agitation | Ketamine | Haloperidol and midazolam
Lidocaine Infusion for Opioid-Refractory Cancer Pain | Intravenous Lidocaine Versus Placebo in Patients With Cancer
    Pain Not Controlled by Opioids | Cancer Pain | Lidocaine | Saline
Ketamine to Prevent Postoperative Delirium in Older Adults | Subanaesthetic Ketamine at Induction and Delirium After
    Major Surgery in Patients Aged 65 and Over | Delirium | Ketamine | Saline
Sublingual Ketamine for Suicidal Ideation in the Emergency Department | A Pilot Trial of Sublingual Ketamine for
    Acute Suicidal Ideation | Suicidal Ideation | Ketamine | Placebo
Dexamethasone for Pain Flare After Radiotherapy for Bone Metastases | Dexamethasone Versus Placebo to Prevent Pain
    Flare After Palliative Radiotherapy | Bone Metastases | Dexamethasone | Placebo
Ketamine-Assisted Psychotherapy for Alcohol Use Disorder | Ketamine With Psychological Therapy to Prevent Relapse in
    Alcohol Use Disorder | Alcohol Use Disorder | Ketamine | Saline
Ketamine Mouth Rinse After Tonsillectomy in Children | Ketamine Gargle for Post-Tonsillectomy Pain in Children: a
    Double-Blind Trial | Post-tonsillectomy Pain | Ketamine | Saline gargle
Magnesium and Ketamine for Renal Colic | Intravenous Magnesium With Low-Dose Ketamine Versus Morphine for Renal
    Colic | Renal Colic | Ketamine and magnesium | Morphine
Buprenorphine Patch for Cancer Pain in Elderly Patients | Transdermal Buprenorphine Versus Oral Morphine for Cancer
    Pain in Patients Aged 70 and Over | Cancer Pain | Buprenorphine | Morphine
Nabiximols Spray for Opioid-Resistant Cancer Pain | A Randomised Placebo-Controlled Trial of Nabiximols as an Add-On
    for Advanced Cancer Pain | Cancer Pain | Nabiximols | Placebo spray
Ketamine Sedation for Burn Dressing Changes | Ketamine and Dexmedetomidine Versus Ketamine Alone for Burn Dressing
    Changes in Adults | Burns | Ketamine and dexmedetomidine | Ketamine
Oral Ketamine for Chronic Low Back Pain | A Crossover Trial of Oral Ketamine in Chronic Low Back Pain With Central
    Sensitisation | Low Back Pain | Ketamine | Placebo
Ketamine in Status Epilepticus ({acronym}) | Early Ketamine Versus Standard Care for Refractory Status Epilepticus |
    Status Epilepticus | Ketamine | Standard care
Acupuncture for Aromatase Inhibitor Arthralgia | Electroacupuncture Versus Sham for Joint Pain in Women Taking
    Aromatase Inhibitors | Arthralgia | Electroacupuncture | Sham acupuncture
Pregabalin Before Mastectomy to Prevent Chronic Pain | Perioperative Pregabalin and Persistent Pain After Breast
    Cancer Surgery | Postmastectomy Pain Syndrome | Pregabalin | Placebo
Celiac Plexus Neurolysis Timing in Pancreatic Cancer | Early Endoscopic Ultrasound-Guided Neurolysis Versus
    Analgesics on Demand in Unresectable Pancreatic Cancer | Pancreatic Cancer | Neurolysis | Analgesics
Psilocybin for Existential Distress in Terminal Illness | A Phase 2 Trial of Psilocybin-Assisted Therapy for
    Demoralisation in Advanced Disease | Demoralization | Psilocybin | Niacin
Ketamine Anaesthesia and Memory in Electroconvulsive Therapy | Ketofol Versus Propofol Induction for
    Electroconvulsive Therapy Sessions | Depression | Ketamine and propofol | Propofol
Single-Fraction Radiotherapy for Painful Spinal Metastases | 8 Gy in One Fraction Versus 20 Gy in Five Fractions for
    Spinal Metastatic Pain | Spinal Metastases | Radiotherapy 8 Gy | Radiotherapy 20 Gy
Nurse-Led Education on Cancer Pain at Home | A Cluster Trial of Structured Pain Education for Outpatients With
    Cancer and Their Carers | Cancer Pain | Pain education | Usual care
Ketamine for Sickle Cell Crisis Pain in Adolescents | Low-Dose Ketamine Infusion Added to Morphine in Vaso-Occlusive
    Crisis | Sickle Cell Anemia | Ketamine | Saline
"""
REGISTRY_TOPICS = [tuple(row) for row in table_rows(REGISTRY_TABLE)]
REGISTERS = {  # register -> (id maker, web address pattern, countries)
    "ClinicalTrials.gov": (
        lambda r: f"NCT09{r.randint(0, 999_999):06d}",
        "https://clinicaltrials.gov/show/{}",
        ("United States", "Canada", "France", "Spain", "Italy"),
    ),
    "ANZCTR": (
        lambda r: f"ACTRN12699{r.randint(0, 999_999):06d}{r.randint(0, 999):03d}"[:19],
        "https://anzctr.org.au/{}.aspx",
        ("Australia", "New Zealand"),
    ),
    "ChiCTR": (
        lambda r: f"ChiCTR2699{r.randint(0, 999_999):06d}",
        "https://www.chictr.org.cn/showproj.html?proj={}",
        ("China",),
    ),
    "IRCT": (
        lambda r: f"IRCT2099{r.randint(0, 99_999_999):08d}N{r.randint(1, 9)}",
        "https://irct.behdasht.gov.ir/trial/{}",
        ("Iran",),
    ),
    "CTRI": (
        lambda r: f"CTRI/2099/{r.randint(1, 12):02d}/{r.randint(0, 999_999):06d}",
        "https://ctri.nic.in/Clinicaltrials/pmaindet2.php?trialid={}",
        ("India",),
    ),
}
CTGOV_ADDRESS = "https://clinicaltrials.gov/show/{}"
ICTRP_ADDRESS = "https://trialsearch.who.int/Trial2.aspx?TrialID={}"
PLACES = ("Norway", "Brazil", "Texas", "Ontario", "Scotland", "Japan", "Lyon", "Madrid", "Turin", "Seoul")
SPONSORS = (
    "Northbridge University Hospital",
    "Eastshire Cancer Centre",
    "Riverside Medical Center",
    "Lakeside Clinical Research Institute",
    "Hillcrest University",
    "St. Aldric's Hospital",
    "Coastal Health Network",
    "Meridian Academic Medical Centre",
    "Westvale Children's Hospital",
    "Harbour City University",
)


def registration(maker: Maker, topic: Sequence[str], register: str) -> Registration:
    rng = maker.rng
    title_pattern, official, condition, intervention, comparator = topic
    title = title_pattern.format(where=rng.choice(PLACES), acronym="".join(rng.sample("ABDEKMPRST", 4)))
    maker.remember(title)
    make_id, _address, countries = REGISTERS[register]
    registry_id = maker.fresh(lambda: make_id(rng))
    year = rng.randint(2008, 2025)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    randomised = rng.random() < 0.85
    status = rng.choice(("COMPLETED", "COMPLETED", "RECRUITING", "UNKNOWN", "TERMINATED", "NOT_YET_RECRUITING"))
    return Registration(
        registry_id=registry_id,
        register=register,
        title=title,
        official_title=official,
        summary=(
            f"This study compares {intervention.lower()} with {comparator.lower()} in people with "
            f"{condition.lower()}. Participants are followed for {rng.choice((7, 14, 28, 90, 180))} days."
        ),
        conditions=(condition,),
        interventions=(intervention,),
        comparator=comparator,
        primary_outcome=rng.choice(
            (
                "Pain intensity (0-10 numeric rating scale)",
                "Response rate",
                "Change in symptom score",
                "Time to treatment success",
            )
        ),
        secondary_outcome=rng.choice(("Adverse events", "Rescue medication use", "Quality of life")),
        sponsor=rng.choice(SPONSORS),
        official=(rng.choice(FIRST_NAMES), rng.choice(SURNAMES)),
        registered=f"{year}-{month:02d}-{day:02d}",
        start=f"{year}-{min(month + 1, 12):02d}-01",
        status=status,
        phase=rng.choice(("PHASE2", "PHASE3", "PHASE4", "NA")),
        enrollment=rng.randint(30, 400),
        allocation="RANDOMIZED" if randomised else "NA",
        model=rng.choice(("PARALLEL", "PARALLEL", "CROSSOVER")) if randomised else "SINGLE_GROUP",
        masking=rng.choice(("QUADRUPLE", "DOUBLE", "NONE")),
        countries=(rng.choice(countries),),
    )


def relevant_registration(maker: Maker, item: RelevantRegistration) -> Registration:
    rng = maker.rng
    maker.remember(item.title)
    maker.used.add(item.registry_id)
    allocation, model, masking, enrollment = item.design
    summary = item.summary or (
        f"Adults with cancer pain not controlled by opioids. {item.official_title}. Target size {enrollment}."
    )
    return Registration(
        registry_id=item.registry_id,
        register=item.register,
        title=item.title,
        official_title=item.official_title,
        summary=summary,
        conditions=("Cancer Pain",),
        interventions=("Ketamine",) if "sketamine" not in item.title else ("Esketamine",),
        comparator="Dexmedetomidine" if "dexmedetomidine" in item.title else "Placebo",
        primary_outcome="Pain intensity (0-10 numeric rating scale)",
        secondary_outcome="Opioid consumption; adverse events",
        # An included trial's registration keeps only what is known of it (its id and year): no made-up sponsor.
        sponsor="" if item.trial else rng.choice(SPONSORS),
        official=("", "") if item.trial else (rng.choice(FIRST_NAMES), rng.choice(SURNAMES)),
        registered=item.registered,
        start=f"{item.registered[:5]}{min(int(item.registered[5:7]) + 1, 12):02d}-01",
        status=item.status,
        phase="PHASE3" if allocation == "RANDOMIZED" else "PHASE2",
        enrollment=enrollment,
        allocation=allocation,
        model=model,
        masking=masking,
        countries=item.countries,
    )


# ---------------------------------------------------------------------------------------------------------------
# Copies: how each database changes a work
# ---------------------------------------------------------------------------------------------------------------


def copies_of(article: Article, pattern: str, maker: Maker) -> dict[str, Copy]:
    """The work's copies in the files of `pattern`, with the differences real exports have between them."""
    rng = maker.rng
    out: dict[str, Copy] = {}
    in_medline = "M" in pattern
    base = article
    if in_medline and not base.pmid:
        base = dataclasses.replace(base, pmid=maker.pmid())
    for letter in pattern:
        file = PATTERN_FILES[letter]
        copy = base
        if letter == "E" and in_medline:
            copy = dataclasses.replace(
                copy,
                embase_id=maker.embase_id(copy.year),
                # Embase gives the PubMed id of most records it shares with MEDLINE, not all.
                pmid=copy.pmid if rng.random() < 0.8 else "",
            )
        elif letter == "E":
            copy = dataclasses.replace(copy, embase_id=maker.embase_id(copy.year))
        elif letter == "C":
            copy = dataclasses.replace(
                copy,
                central_id=maker.central_id(),
                doi=copy.doi if rng.random() < 0.7 else "",
                abbreviated_journal=rng.random() < 0.3,
            )
        elif letter == "M" and copy.year < 2005 and rng.random() < 0.5:
            copy = dataclasses.replace(copy, doi="")  # older MEDLINE records often lack the DOI
        out[file] = copy
    return out


def conference_pair(maker: Maker) -> dict[str, Copy]:
    """An Embase conference abstract and, a year later, the full article in MEDLINE: the same journal and first
    author, the abstract without pages or DOI. The deduplicator queues them (conference abstract vs paper)."""
    article = relevant_article(CONFERENCE_PAIR, maker)
    paper = dataclasses.replace(article, pmid=maker.pmid())
    abstract = dataclasses.replace(
        article,
        year=article.year - 1,
        volume=str(volume_of(article.journal, article.year - 1)),
        issue="2 SUPPL. 1",
        first_page="",
        last_page="",
        doi="",
        pmid="",
        kind="conference",
        abstract=article.abstract.replace("Patients", "Thirty-eight patients", 1),
        embase_id=maker.embase_id(article.year - 1),
        emtree=article.emtree + ("conference abstract",),
    )
    return {MEDLINE: paper, EMBASE: abstract}


def in_press_pair(maker: Maker, item: Relevant | None = None, article: Article | None = None) -> dict[str, Copy]:
    """MEDLINE's record of the printed article and Embase's in-press record a year earlier: no volume, pages,
    DOI or PubMed id. Without an identifier or a place to compare, the deduplicator queues the pair."""
    if article is None:
        if item is None:
            raise TypeError("in_press_pair needs an item or an article")
        article = relevant_article(item, maker)
    paper = dataclasses.replace(article, pmid=maker.pmid(), doi=article.doi or maker.doi(article.journal, article.year))
    in_press = dataclasses.replace(
        article,
        year=article.year - 1,
        volume="",
        issue="",
        first_page="",
        last_page="",
        doi="",
        pmid="",
        embase_id=maker.embase_id(article.year - 1),
    )
    return {MEDLINE: paper, EMBASE: in_press}


# ---------------------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------------------


def _title_case(title: str) -> str:
    small = {"a", "an", "and", "as", "at", "for", "in", "of", "on", "or", "the", "to", "with", "versus", "vs"}
    words = title.split(" ")
    return " ".join(
        w if (k and w.lower() in small) or not w[:1].islower() else w[:1].upper() + w[1:] for k, w in enumerate(words)
    )


def medline_title(a: Article) -> str:
    title = a.title if a.language == "English" else f"[{a.title}]"
    return title if title.endswith((".", "?", "]")) else title + "."


def embase_title(a: Article) -> str:
    return _title_case(a.title) if a.title_case else a.title


def central_title(c: Copy) -> str:
    return c.title


def _abbreviated_last_page(first: str, last: str) -> str:
    """MEDLINE's "379-83": the last page without the digits it shares with the first."""
    if not (first.isdigit() and last.isdigit()) or len(first) != len(last):
        return last
    k = 0
    while k < len(first) - 1 and first[k] == last[k]:
        k += 1
    return last[k:]


def _lines(pairs: Sequence[tuple[str, str]]) -> list[str]:
    return [f"{tag}  - {value}" for tag, value in pairs if value != ""]


def medline_record(a: Article, number: int) -> tuple[str, str]:
    title = medline_title(a)
    pairs: list[tuple[str, str]] = [("TY", "JOUR"), ("DB", "Ovid MEDLINE(R) ALL"), ("AN", a.pmid)]
    if a.doi:
        pairs.append(("DO", f"https://dx.doi.org/{a.doi}"))
    pairs += [("T1", title)]
    pairs += [("A1", author.medline()) for author in a.authors]
    pairs += [("Y1", f"{a.year}//"), ("N2", a.abstract)]
    pairs += [("KW", term) for term in a.mesh]
    pairs += [
        ("JF", a.journal.medline),
        ("JA", a.journal.abbreviation),
        ("VL", a.volume),
        ("IS", a.issue),
        ("SP", a.first_page),
        ("EP", _abbreviated_last_page(a.first_page, a.last_page)),
        ("CY", a.journal.country),
        ("SN", a.journal.issn),
        ("LA", a.language),
        ("UR", f"http://ovidsp.ovid.com/ovidweb.cgi?T=JS&PAGE=reference&D=medl&NEWS=N&AN={a.pmid}"),
    ]
    if a.doi:
        pairs.append(("UR", f"https://dx.doi.org/{a.doi}"))
    text = [f"{number}.", *_lines(pairs), "ER  - ", ""]
    text.append(
        "Link to the Ovid Full Text or citation: "
        f"http://ovidsp.ovid.com/ovidweb.cgi?T=JS&CSC=Y&NEWS=N&PAGE=fulltext&D=medl&AN={a.pmid}"
    )
    text.append("")
    return "\n".join(text) + "\n", title


def embase_record(a: Article, number: int) -> tuple[str, str]:
    title = embase_title(a)
    database = "emed26" if a.year >= 2000 else "emed5"
    pairs: list[tuple[str, str]] = [("TY", "JOUR"), ("DB", "Embase"), ("AN", a.embase_id)]
    if a.doi:
        pairs.append(("DO", f"https://dx.doi.org/{a.doi}"))
    pairs.append(("T1", title))
    pairs += [("A1", author.embase()) for author in a.authors]
    pairs += [("Y1", f"{a.year}//"), ("N2", a.abstract)]
    pairs += [("KW", term) for term in a.emtree]
    no_pages = not a.first_page
    pairs += [
        ("JF", a.journal.embase),
        ("JA", a.journal.embase_abbreviation),
        ("VL", a.volume),
        ("IS", a.issue),
        ("SP", "No" if no_pages else a.first_page),
        ("EP", "Specified" if no_pages else a.last_page),
        ("CY", a.journal.country),
        ("SN", a.journal.issn),
        ("LA", a.language),
        ("M3", {"conference": "Conference Abstract", "review": "Review"}.get(a.kind, "Article")),
        ("C5", a.pmid),
        ("UR", f"http://ovidsp.ovid.com/ovidweb.cgi?T=JS&PAGE=reference&D={database}&NEWS=N&AN={a.embase_id}"),
    ]
    text = [f"{number}.", *_lines(pairs), "ER  - ", ""]
    text.append(
        "Link to the Ovid Full Text or citation: "
        f"http://ovidsp.ovid.com/ovidweb.cgi?T=JS&CSC=Y&NEWS=N&PAGE=fulltext&D={database}&AN={a.embase_id}"
    )
    text.append("")
    return "\n".join(text) + "\n", title


def central_record(c: Copy, number: int) -> tuple[str, str]:
    title = central_title(c)
    if isinstance(c, Registration):
        # CENTRAL takes registrations from ClinicalTrials.gov and from the WHO ICTRP, and links them there.
        url = (CTGOV_ADDRESS if c.register == "ClinicalTrials.gov" else ICTRP_ADDRESS).format(c.registry_id)
        pairs = [
            ("TY", "JOUR"),
            ("ID", c.central_id),
            ("TI", title),
            ("JO", "ClinicalTrials.gov" if c.register == "ClinicalTrials.gov" else url),
            ("PY", str(c.year)),
            ("AB", f"{c.summary}\nCondition: {'; '.join(c.conditions)}. Intervention: {'; '.join(c.interventions)}."),
            ("KW", "; ".join(c.conditions)),
            ("M3", "Trial registry record"),
            ("AN", c.registry_id),
            ("UR", url),
        ]
    else:
        # The Cochrane Library's link carries the CENTRAL entry's own DOI (10.1002/central/CN-…), which Sieve's
        # importer must not take for the article's (reviews.importers.base.normalize_doi).
        pages = f"{c.first_page}-{c.last_page}" if c.first_page else ""
        pairs = [("TY", "JOUR"), ("ID", c.central_id)]
        pairs += [("AU", author.central()) for author in c.authors]
        pairs += [
            ("TI", title),
            ("JO", central_journal(c)),
            ("PY", str(c.year)),
            ("VL", c.volume),
            ("IS", c.issue),
            ("SP", pages),
            ("AB", c.abstract),
            ("KW", "; ".join(term.split("/")[0].lstrip("*") for term in c.mesh)),
            ("DO", c.doi),
            ("M3", "Conference proceeding" if c.kind == "conference" else "Journal article"),
            ("N1", f"Trial registration: {c.registry_id}" if c.registry_id else ""),
            ("AN", f"PUBMED {c.pmid}" if c.pmid else f"EMBASE {c.embase_id}" if c.embase_id else ""),
            ("UR", f"https://www.cochranelibrary.com/central/doi/10.1002/central/{c.central_id}/full"),
        ]
    text = [*_lines(pairs), "ER  - ", ""]
    return "\n".join(text) + "\n", title


def _initials(name: str) -> str:
    """ "Northbridge University Hospital" -> "NUH": a sponsor's protocol numbers start so."""
    return "".join(word[0] for word in name.split() if word[0].isalpha() and word[0].isupper())


def central_journal(a: Article) -> str:
    """CENTRAL names a journal by its NLM title without subtitle, by its abbreviation in some records, and a
    conference abstract's journal as Embase does."""
    if a.kind == "conference":
        return a.journal.embase
    return a.journal.abbreviation if a.abbreviated_journal else a.journal.medline.split(" : ")[0]


def ctgov_study(r: Registration) -> dict:
    arms = [{"label": r.interventions[0], "type": "EXPERIMENTAL", "interventionNames": [f"Drug: {r.interventions[0]}"]}]
    interventions = [{"type": "DRUG", "name": r.interventions[0], "armGroupLabels": [r.interventions[0]]}]
    if r.allocation == "RANDOMIZED":
        arms.append(
            {
                "label": r.comparator,
                "type": "PLACEBO_COMPARATOR"
                if "lacebo" in r.comparator or "aline" in r.comparator
                else "ACTIVE_COMPARATOR",
                "interventionNames": [f"Drug: {r.comparator}"],
            }
        )
        interventions.append({"type": "DRUG", "name": r.comparator, "armGroupLabels": [r.comparator]})
    posted = r.registered[:8] + f"{min(int(r.registered[8:]) + 5, 28):02d}"
    return {
        "protocolSection": {
            "identificationModule": {
                "nctId": r.registry_id,
                "orgStudyIdInfo": {"id": f"{_initials(r.sponsor)}-{r.registered[:4]}-{r.registry_id[-3:]}"},
                "organization": {"fullName": r.sponsor, "class": "OTHER"},
                "briefTitle": r.title,
                "officialTitle": r.official_title,
            },
            "statusModule": {
                "statusVerifiedDate": r.registered[:7],
                "overallStatus": r.status,
                "startDateStruct": {"date": r.start, "type": "ACTUAL"},
                "studyFirstSubmitDate": r.registered,
                "studyFirstSubmitQcDate": r.registered,
                "studyFirstPostDateStruct": {"date": posted, "type": "ACTUAL"},
            },
            "sponsorCollaboratorsModule": {
                "responsibleParty": {"type": "SPONSOR"},
                "leadSponsor": {"name": r.sponsor, "class": "OTHER"},
            },
            "descriptionModule": {"briefSummary": r.summary},
            "conditionsModule": {"conditions": list(r.conditions), "keywords": [r.interventions[0].lower()]},
            "designModule": {
                "studyType": "INTERVENTIONAL",
                "phases": [r.phase],
                "designInfo": {
                    "allocation": r.allocation,
                    "interventionModel": r.model,
                    "primaryPurpose": "TREATMENT",
                    "maskingInfo": {"masking": r.masking},
                },
                "enrollmentInfo": {
                    "count": r.enrollment,
                    "type": "ACTUAL" if r.status != "RECRUITING" else "ESTIMATED",
                },
            },
            "armsInterventionsModule": {"armGroups": arms, "interventions": interventions},
            "outcomesModule": {
                "primaryOutcomes": [{"measure": r.primary_outcome, "timeFrame": "Day 7"}],
                "secondaryOutcomes": [{"measure": r.secondary_outcome, "timeFrame": "Day 28"}],
            },
            "eligibilityModule": {
                "eligibilityCriteria": "Inclusion Criteria:\n\n* Adults aged 18 or over\n\nExclusion Criteria:\n\n"
                "* Pregnancy\n* Unable to give consent",
                "healthyVolunteers": False,
                "sex": "ALL",
                "minimumAge": "18 Years",
                "stdAges": ["ADULT", "OLDER_ADULT"],
            },
            "contactsLocationsModule": {
                "overallOfficials": [
                    {
                        "name": f"{r.official[0]} {r.official[1]}, MD",
                        "affiliation": r.sponsor,
                        "role": "PRINCIPAL_INVESTIGATOR",
                    }
                ],
                "locations": [{"facility": r.sponsor, "country": r.countries[0]}],
            },
        },
        "derivedSection": {"miscInfoModule": {"versionHolder": "2026-11-27"}},
        "hasResults": False,
    }


ICTRP_STATUS = {
    "COMPLETED": "Not recruiting",
    "TERMINATED": "Not recruiting",
    "UNKNOWN": "Not recruiting",
    "RECRUITING": "Recruiting",
    "NOT_YET_RECRUITING": "Pending",
}


def ictrp_trial(r: Registration, number: int) -> tuple[str, str]:
    ymd = r.registered.replace("-", "")
    address = REGISTERS.get(r.register, (None, "https://trialsearch.who.int/Trial2.aspx?TrialID={}", ()))[1]
    design = (
        f"Allocation: {'Randomized' if r.allocation == 'RANDOMIZED' else 'N/A'}. Intervention model: "
        f"{r.model.replace('_', ' ').title()} Assignment. Primary purpose: Treatment. Masking: {r.masking.title()}."
    )
    fields = [
        ("Internal_Number", str(number)),
        ("TrialID", r.registry_id),
        ("Last_Refreshed_on", "27 November 2026"),
        ("Public_title", r.title),
        ("Scientific_title", r.official_title),
        ("Acronym", ""),
        ("Primary_sponsor", r.sponsor),
        ("Date_registration", r.registered),
        ("Date_registration3", ymd),
        ("Export_date", "11/28/2026 09:14:03"),
        ("Source_Register", r.register),
        ("web_address", address.format(r.registry_id)),
        ("Recruitment_Status", ICTRP_STATUS[r.status]),
        ("other_records", "No"),
        ("Inclusion_agemin", "18 Years"),
        ("Inclusion_agemax", "N/A"),
        ("Inclusion_gender", "All"),
        ("Date_enrollement", r.start),
        ("Target_size", str(r.enrollment)),
        ("Study_type", "Interventional"),
        ("Study_design", design),
        ("Phase", {"NA": "N/A"}.get(r.phase, r.phase.title().replace("Phase", "Phase "))),
        ("Countries", ";".join(r.countries)),
        ("Contact_Firstname", r.official[0]),
        ("Contact_Lastname", r.official[1]),
        ("Contact_Affiliation", r.sponsor),
        ("Inclusion_Criteria", "Inclusion criteria: Adults aged 18 or over<br>Informed consent"),
        ("Exclusion_Criteria", "Exclusion criteria: Pregnancy<br>Psychosis"),
        ("Condition", ";".join(r.conditions)),
        ("Intervention", f"Drug: {r.interventions[0]};Drug: {r.comparator}"),
        ("Primary_outcome", r.primary_outcome),
        ("Secondary_outcome", r.secondary_outcome),
        ("Source_Support", r.sponsor),
        ("results_yes_no", "No"),
    ]
    lines = ["  <Trial>"]
    for tag, value in fields:
        lines.append(f"    <{tag}/>" if value == "" else f"    <{tag}>{escape(value)}\n    </{tag}>")
    lines.append("  </Trial>")
    return "\n".join(lines) + "\n", r.title


# ---------------------------------------------------------------------------------------------------------------
# Assembling the works
# ---------------------------------------------------------------------------------------------------------------

# How many made-up articles sit in which files (M MEDLINE, E Embase, C CENTRAL), and of which kind.
ARTICLE_PATTERNS = (
    # pattern, count, trial design (CENTRAL holds trials), kind
    ("MEC", 15, True, "article"),
    ("ME", 19, False, "article"),
    ("ME", 2, False, "review"),
    ("MC", 2, True, "article"),
    ("EC", 1, True, "article"),
    ("M", 50, False, "article"),
    ("M", 5, False, "review"),
    ("E", 47, False, "article"),
    ("E", 18, False, "conference"),
    ("E", 3, False, "review"),
    ("C", 14, True, "article"),
    ("C", 11, True, "conference"),
)
# Registrations: pattern, count, register.
REGISTRATION_PATTERNS = (
    ("TI", 10, "ClinicalTrials.gov"),
    ("T", 6, "ClinicalTrials.gov"),
    ("TIC", 2, "ClinicalTrials.gov"),
    ("I", 2, "ANZCTR"),
    ("I", 2, "ChiCTR"),
    ("I", 2, "IRCT"),
    ("I", 1, "CTRI"),
    ("IC", 2, "ANZCTR"),
)
# Made-up works the authors disagree on (one says maybe, the other exclude): the editor excludes them.
GENERATED_CONFLICTS = 3


def build_works(rng: random.Random) -> list[Work]:
    maker = Maker(rng)
    works: list[Work] = []
    for trial in INCLUDED_TRIALS:
        copies = copies_of(included_article(trial, maker), "MEC", maker)
        works.append(Work(copies, "auto", trial.label, (INCLUDE, INCLUDE), None, (INCLUDE, "")))
    for item in RELEVANT:
        works.append(judged(copies_of(relevant_article(item, maker), item.pattern, maker), item))
    works.append(judged(conference_pair(maker), CONFERENCE_PAIR, duplicate="queued"))
    works.append(judged(in_press_pair(maker, IN_PRESS_PAIR), IN_PRESS_PAIR, duplicate="queued"))
    for registered in RELEVANT_REGISTRATIONS:
        copies = registration_copies(relevant_registration(maker, registered), registered.pattern, maker)
        works.append(judged(copies, registered))

    generated: list[Work] = []
    rows = list(REGISTRY_TOPICS)
    rng.shuffle(rows)
    for pattern, count, register in REGISTRATION_PATTERNS:
        for _ in range(count):
            row = rows.pop()
            while not maker.distinct(row[0]):
                row = rows.pop()
            generated.append(work_of(registration_copies(registration(maker, row, register), pattern, maker)))
    for pattern, count, trial_design, kind in ARTICLE_PATTERNS:
        for _ in range(count):
            # Trials (CENTRAL) and reviews are of people.
            topic = rng.choice([t for t in TOPICS if not (t.animal and (trial_design or kind == "review"))])
            article = maker.article(topic, trial_design=trial_design, kind=kind)
            generated.append(work_of(copies_of(article, pattern, maker)))
    # One more queued pair among the irrelevant: an in-press Embase record of a MEDLINE article.
    postoperative = next(t for t in TOPICS if t.name == "postoperative")
    generated.append(work_of(in_press_pair(maker, article=maker.article(postoperative)), duplicate="queued"))
    for work in rng.sample(generated, GENERATED_CONFLICTS):
        work.screening, work.resolution = (MAYBE, EXCLUDE), EXCLUDE
    return works + generated


def judged(copies: dict[str, Copy], item: Relevant | RelevantRegistration, *, duplicate: str | None = None) -> Work:
    """A hand-written work with the review's decisions on it."""
    trial = item.trial if isinstance(item, RelevantRegistration) else None
    return work_of(copies, item.screening, item.resolution, item.fulltext, duplicate=duplicate, trial=trial)


def registration_copies(reg: Registration, pattern: str, maker: Maker) -> dict[str, Copy]:
    copies: dict[str, Copy] = {}
    for letter in pattern:
        copies[PATTERN_FILES[letter]] = (
            dataclasses.replace(reg, central_id=maker.central_id()) if letter == "C" else reg
        )
    return copies


def work_of(
    copies: dict[str, Copy],
    screening: tuple[str, str] = (EXCLUDE, EXCLUDE),
    resolution: str | None = None,
    fulltext: tuple[str, str] | None = None,
    *,
    duplicate: str | None = None,
    trial: str | None = None,
) -> Work:
    if duplicate is None and len(copies) > 1:
        duplicate = "auto"
    return Work(copies, duplicate, trial, screening, resolution, fulltext)


# ---------------------------------------------------------------------------------------------------------------
# Files and key
# ---------------------------------------------------------------------------------------------------------------


def write_record(file: str, copy: Copy, position: int) -> tuple[str, str]:
    """One record as the file's database writes it, and its title as written."""
    if isinstance(copy, Article) and file == MEDLINE:
        return medline_record(copy, position)
    if isinstance(copy, Article) and file == EMBASE:
        return embase_record(copy, position)
    if file == CENTRAL:
        return central_record(copy, position)
    if isinstance(copy, Registration) and file == ICTRP:
        return ictrp_trial(copy, 16_000_000 + position * 7)
    raise TypeError(f"{file} cannot hold {copy!r}")


def render(works: list[Work], rng: random.Random) -> dict[str, str]:
    """Each file's text; sets each work's positions and the title as first written."""
    texts: dict[str, str] = {}
    for file in FILES:
        holders = [w for w in works if file in w.copies]
        rng.shuffle(holders)  # a database's order has nothing to do with how the demo was made
        if file == MEDLINE or file == EMBASE:  # Ovid lists the newest first
            holders.sort(key=lambda w: -w.copies[file].year)
        parts: list[str] = []
        studies: list[dict] = []
        for position, work in enumerate(holders, start=1):
            work.position[file] = position
            copy = work.copies[file]
            if file == CTGOV and isinstance(copy, Registration):
                studies.append(ctgov_study(copy))
                title = copy.title
            else:
                text, title = write_record(file, copy, position)
                parts.append(text)
            if not work.written_title:
                work.written_title = title
        if file == CTGOV:
            texts[file] = json.dumps({"studies": studies}, indent=2, ensure_ascii=False) + "\n"
        elif file == ICTRP:
            texts[file] = (
                "<?xml version='1.0' encoding='UTF-8' ?>\n<Trials_downloaded_from_ICTRP>\n"
                + "".join(parts)
                + "</Trials_downloaded_from_ICTRP>\n"
            )
        else:
            texts[file] = "".join(parts)
    return texts


def judge_title_abstract(screening: tuple[str, str]) -> str | None:
    """screening.services.judge at title/abstract, restated (the key must not depend on Django)."""
    choices = set(screening)
    if EXCLUDE in choices:
        return EXCLUDE if choices == {EXCLUDE} else None
    return INCLUDE if INCLUDE in choices else MAYBE


def key_of(works: list[Work], texts: dict[str, str]) -> dict:
    ordered = sorted(works, key=lambda w: [w.position.get(f, 10_000) for f in FILES])
    entries = []
    for number, work in enumerate(ordered, start=1):
        entries.append(
            {
                "id": f"W{number:03d}",
                "title": work.written_title,
                "in": {f: work.position[f] for f in FILES if f in work.position},
                "duplicate": work.duplicate,
                "trial": work.trial,
                "screening": {"author1": work.screening[0], "author2": work.screening[1]},
                "resolution": work.resolution,
                "fulltext": None
                if work.fulltext is None
                else {"decision": work.fulltext[0], "reason": work.fulltext[1]},
            }
        )
    records = sum(len(w.copies) for w in works)
    verdicts = [judge_title_abstract(w.screening) or w.resolution for w in works]
    fulltext = [w.fulltext for w in works if w.fulltext is not None]
    included = [w for w in works if w.fulltext and w.fulltext[0] == INCLUDE]
    return {
        "version": 1,
        "files": [
            {"file": f, "source": source, "format": fmt, "records": len([w for w in works if f in w.copies])}
            for f, (source, fmt) in FILES.items()
        ],
        "works": entries,
        "expected": {
            "records": records,
            "duplicates_removed": records - len(works),
            "screened": len(works),
            "ta_excluded": verdicts.count(EXCLUDE),
            "conflicts": sum(1 for w in works if judge_title_abstract(w.screening) is None),
            "fulltext_assessed": sum(1 for f in fulltext if f[0] != "not_retrieved"),
            "not_retrieved": sum(1 for f in fulltext if f[0] == "not_retrieved"),
            "fulltext_excluded": sum(1 for f in fulltext if f[0] == EXCLUDE),
            "included_studies": len({w.trial for w in included}),
            "included_reports": len(included),
        },
    }


def check(works: list[Work]) -> None:
    """The key's screening story must be consistent: every work that goes on to full text has a full-text
    answer and no other work has one; conflicts have the editor's answer and only they do."""
    for work in works:
        verdict = judge_title_abstract(work.screening)
        if verdict is None and work.resolution is None:
            raise ValueError(f"conflict without the editor's answer: {work.written_title}")
        if verdict is not None and work.resolution is not None:
            raise ValueError(f"an answer where the authors agree: {work.written_title}")
        goes_on = (verdict or work.resolution) != EXCLUDE
        if goes_on != (work.fulltext is not None):
            raise ValueError(f"full-text answer does not follow title/abstract: {work.written_title}")


README = """# The ketamine demo's search results

Generated by `python -m core.demo.build_sources` (core/demo/build_sources.py); do not edit by hand, change the
generator and run it again. The same code writes the same bytes (a fixed random seed): a test regenerates the
files and compares them with these.

| file | source | format | records |
|---|---|---|---|
{table}

Origin: every title and abstract is written by the project. The bibliographic facts of the three included
trials (authors, title, journal, year, volume, pages, PubMed id, DOI, and the ANZCTR id of Hardy 2012) are real
(see core/demo/trials.py); their abstracts are the project's summaries, not the publishers' text, and the rest
of Hardy 2012's registry record (titles, dates, design) is written by the project from the paper. Every other
record is fictitious, and so is every other identifier: registry ids (NCT09…, ACTRN12699…, ChiCTR2699…,
IRCT2099…, CTRI/2099/…), PubMed ids from 90000000, DOIs under the 10.5555 test prefix, Embase
accession numbers and CENTRAL CN-09… ids. The journals are real journals; the articles attributed to them are
not.

## key.json

- `files`: each file, the source name and format the demo imports it with, and its number of records.
- `works`: one entry per distinct work (an article, an abstract or a registration, with all its copies):
  `in` maps each file that holds a copy to the copy's 1-based position in that file; `duplicate` says how
  Sieve's deduplicator treats the copies (`auto`: merged without asking; `queued`: a pair put to a person,
  which the demo confirms; null: one copy); `trial` names the included study a work reports;
  `screening` holds each author's title/abstract decision, `resolution` the editor's answer where they
  disagree, `fulltext` the full-text decision (and reason, one of Sieve's default exclusion reasons) for
  every work that reaches full text.
- `expected`: the numbers of the PRISMA flow that follow from the works: `records` (all records imported),
  `duplicates_removed` (records minus works, once the queued pairs are confirmed), `screened` (works),
  `ta_excluded`, `conflicts` (title/abstract disagreements), `fulltext_assessed` (full texts assessed: sought
  minus `not_retrieved`), `fulltext_excluded`, `included_studies` and `included_reports` (Hardy 2012 has two
  reports: the article and its registration).
"""


def build(out_dir: Path = SOURCES_DIR) -> dict:
    """Write the five files, key.json and README.md into out_dir; return the key."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible demo data, not security
    works = build_works(rng)
    texts = render(works, rng)
    check(works)
    key = key_of(works, texts)
    out_dir.mkdir(parents=True, exist_ok=True)
    for file, text in texts.items():
        (out_dir / file).write_text(text, encoding="utf-8", newline="\n")
    (out_dir / "key.json").write_text(json.dumps(key, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    table = "\n".join(f"| {f['file']} | {f['source']} | {f['format']} | {f['records']} |" for f in key["files"])
    (out_dir / "README.md").write_text(README.replace("{table}", table), encoding="utf-8")
    return key


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else SOURCES_DIR
    key = build(out)
    counts = ", ".join(f"{f['file']} {f['records']}" for f in key["files"])
    print(f"wrote {out}: {counts}; {len(key['works'])} works; expected {key['expected']}")  # noqa: T201


if __name__ == "__main__":
    main(sys.argv)
