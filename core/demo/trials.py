"""The three trials the demo review includes: bibliographic facts as published (authors, journal, volume,
pages, PubMed id, DOI) and the design facts the review describes. Nothing here is copied from the papers;
the demo's abstracts of them are written by the project (see build_sources)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Author:
    surname: str
    initials: str  # "CY": one letter per given name

    def medline(self) -> str:
        """Ovid MEDLINE's form: "Yang, C Y"."""
        return f"{self.surname}, {' '.join(self.initials)}"

    def embase(self) -> str:
        """Ovid Embase's form: "Yang C.Y."."""
        return f"{self.surname} {''.join(i + '.' for i in self.initials)}"

    def central(self) -> str:
        """CENTRAL's (and PubMed's short) form: "Yang CY"."""
        return f"{self.surname} {self.initials}"


@dataclass(frozen=True)
class Journal:
    embase: str  # the full name as Embase writes it
    medline: str  # the NLM title as MEDLINE writes it (lower case, with its subtitle)
    abbreviation: str  # NLM abbreviation (MEDLINE's JA)
    embase_abbreviation: str  # Embase's dotted abbreviation
    issn: str
    country: str = "United States"


@dataclass(frozen=True)
class IncludedTrial:
    label: str  # how the review names the study: "Hardy 2012"
    authors: tuple[Author, ...]
    title: str  # without the trailing full stop MEDLINE adds
    journal: Journal
    year: int
    volume: str
    issue: str
    first_page: str
    last_page: str  # in full: "3617"
    pmid: str
    doi: str
    route: str
    design: str
    participants: int
    comparison: str
    registry_id: str = ""


CAN_J_ANAESTH = Journal(
    "Canadian Journal of Anaesthesia",
    "Canadian journal of anaesthesia = Journal canadien d'anesthesie",
    "Can J Anaesth",
    "Can. J. Anaesth.",
    "0832-610X",
    "Canada",
)
J_PAIN_SYMPTOM_MANAGE = Journal(
    "Journal of Pain and Symptom Management",
    "Journal of pain and symptom management",
    "J Pain Symptom Manage",
    "J. Pain Symptom Manage.",
    "0885-3924",
)
J_CLIN_ONCOL = Journal(
    "Journal of Clinical Oncology",
    "Journal of clinical oncology : official journal of the American Society of Clinical Oncology",
    "J Clin Oncol",
    "J. Clin. Oncol.",
    "0732-183X",
)

YANG_1996 = IncludedTrial(
    label="Yang 1996",
    authors=(Author("Yang", "CY"), Author("Wong", "CS"), Author("Chang", "JY"), Author("Ho", "ST")),
    title="Intrathecal ketamine reduces morphine requirements in patients with terminal cancer pain",
    journal=CAN_J_ANAESTH,
    year=1996,
    volume="43",
    issue="4",
    first_page="379",
    last_page="383",
    pmid="8697553",
    doi="10.1007/BF03011718",
    route="intrathecal",
    design="randomised crossover",
    participants=20,
    comparison="intrathecal ketamine added to intrathecal morphine versus morphine alone",
)

MERCADANTE_2000 = IncludedTrial(
    label="Mercadante 2000",
    authors=(Author("Mercadante", "S"), Author("Arcuri", "E"), Author("Tirelli", "W"), Author("Casuccio", "A")),
    title=(
        "Analgesic effect of intravenous ketamine in cancer patients on morphine therapy: a randomized, "
        "controlled, double-blind, crossover, double-dose study"
    ),
    journal=J_PAIN_SYMPTOM_MANAGE,
    year=2000,
    volume="20",
    issue="4",
    first_page="246",
    last_page="252",
    pmid="11027905",
    doi="10.1016/S0885-3924(00)00194-9",
    route="intravenous",
    design="randomised double-blind crossover",
    participants=10,
    comparison="intravenous ketamine 0.25 mg/kg and 0.5 mg/kg versus saline placebo",
)

HARDY_2012 = IncludedTrial(
    label="Hardy 2012",
    authors=(
        Author("Hardy", "J"),
        Author("Quinn", "S"),
        Author("Fazekas", "B"),
        Author("Plummer", "J"),
        Author("Eckermann", "S"),
        Author("Agar", "M"),
        Author("Spruyt", "O"),
        Author("Rowett", "D"),
        Author("Currow", "DC"),
    ),
    title=(
        "Randomized, double-blind, placebo-controlled study to assess the efficacy and toxicity of subcutaneous "
        "ketamine in the management of cancer pain"
    ),
    journal=J_CLIN_ONCOL,
    year=2012,
    volume="30",
    issue="29",
    first_page="3611",
    last_page="3617",
    pmid="22965960",
    doi="10.1200/JCO.2011.38.8743",
    route="subcutaneous",
    design="randomised double-blind parallel",
    participants=185,
    comparison="subcutaneous ketamine infusion versus saline placebo, with usual opioids",
    registry_id="ACTRN12607000501448",
)

INCLUDED_TRIALS = (YANG_1996, MERCADANTE_2000, HARDY_2012)
