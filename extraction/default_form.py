"""The default extraction form: Cochrane's "Characteristics of included studies" (methods, participants,
interventions, outcomes, notes; Cochrane Handbook chapter 5, table 5.3.a), with per-arm numbers, so that a
new review can start extracting at once. Each field: (key, label, type, options)."""

from typing import Any

ROUTES = ["Intravenous", "Intrathecal", "Epidural", "Subcutaneous", "Intramuscular", "Oral", "Intranasal", "Other"]

DEFAULT_FORM_NAME = "Characteristics of included studies"

DEFAULT_SECTIONS: list[dict[str, Any]] = [
    {
        "title": "Methods",
        "fields": [
            {"key": "methods_design", "label": "Study design", "type": "single_choice", "required": True,
             "choices": ["Parallel RCT", "Crossover RCT", "Cluster RCT", "Non-randomised", "Other"]},
            {"key": "methods_randomisation", "label": "Random sequence generation", "type": "long_text"},
            {"key": "methods_concealment", "label": "Allocation concealment", "type": "long_text"},
            {"key": "methods_blinding", "label": "Blinding of participants, personnel and assessors",
             "type": "long_text"},
            {"key": "methods_washout", "label": "Washout period (crossover)", "type": "text",
             "help_text": "Crossover trials: how long between periods."},
            {"key": "methods_duration", "label": "Duration of follow-up", "type": "text"},
            {"key": "methods_setting", "label": "Setting and country", "type": "text"},
            {"key": "methods_start", "label": "Study start", "type": "date"},
            {"key": "methods_funding", "label": "Funding source", "type": "text"},
        ],
    },
    {
        "title": "Participants",
        "fields": [
            {"key": "participants_condition", "label": "Condition", "type": "text", "required": True},
            {"key": "participants_inclusion", "label": "Inclusion criteria", "type": "long_text"},
            {"key": "participants_exclusion", "label": "Exclusion criteria", "type": "long_text"},
            {"key": "participants_randomised", "label": "Randomised", "type": "integer", "per_arm": True,
             "required": True},
            {"key": "participants_completed", "label": "Completed", "type": "integer", "per_arm": True,
             "required": True},
            {"key": "participants_age", "label": "Mean age", "type": "decimal", "unit": "years", "per_arm": True},
            {"key": "participants_female", "label": "Women", "type": "decimal", "unit": "%", "per_arm": True},
        ],
    },
    {
        "title": "Interventions",
        "fields": [
            {"key": "interventions_description", "label": "Intervention", "type": "long_text", "per_arm": True,
             "required": True},
            {"key": "interventions_dose", "label": "Dose", "type": "text", "per_arm": True},
            {"key": "interventions_route", "label": "Route", "type": "single_choice", "per_arm": True,
             "choices": ROUTES},
            {"key": "interventions_cointerventions", "label": "Co-interventions", "type": "long_text"},
        ],
    },
    {
        "title": "Outcomes",
        "fields": [
            {"key": "outcomes_reported", "label": "Outcomes reported", "type": "long_text", "required": True},
            {"key": "outcomes_timepoints", "label": "Time points", "type": "text"},
            {"key": "outcomes_pain_scale", "label": "Pain scale", "type": "text",
             "help_text": "e.g. VAS 0-100 mm, NRS 0-10."},
        ],
    },
    {
        "title": "Notes",
        "fields": [
            {"key": "notes_conflicts", "label": "Declarations of interest", "type": "long_text"},
            {"key": "notes_contacted", "label": "Authors contacted", "type": "yes_no"},
            {"key": "notes", "label": "Notes", "type": "long_text"},
        ],
    },
]  # fmt: skip
