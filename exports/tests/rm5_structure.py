"""The structure of a RevMan 5 file, written down by hand (no content copied) from real files and real readers, for
testing Sieve's RevMan 5 export against it.

Sources:

* `REAL`: inst/extdata/Fleiss1993.rm5 in the R package meta (GitHub guido-s/meta, commit 6f708f26), a file written
  by RevMan 5.0.23 (REVMAN_SUB_VERSION="5.0.23"): every element it holds, its attributes and its children in the
  order RevMan wrote them. Attributes RevMan writes on every element it touches (MODIFIED, MODIFIED_BY) are
  listed where the file has them.
* `FROM_READERS`: elements that file does not hold (its review has no excluded, awaiting or ongoing studies, no
  subgroups, no generic inverse variance outcome, no references with content), as real readers of Cochrane's
  .rm5 files read them: meta's reader (R/read.rm5.R and its helper `extract_outcomes`, guido-s/meta, reads
  IV_OUTCOME, IV_DATA, *_SUBGROUP, the EFFECT_MEASURE element of IV outcomes, LOG_DATA), RobotReviewer's rm5reader
  (REFERENCE children AU/TI/SO/YR/PG/VL/NO, QUALITY_ITEM_DATA_ENTRY_GROUP), and parsers of the Cochrane library's
  files (EXCLUDED_CHAR with CHAR_REASON_FOR_EXCLUSION; the children of AWAITING_CHAR and ONGOING_CHAR as RevMan's
  "Characteristics of studies awaiting classification / ongoing studies" tables name them). These are less
  certain than `REAL`. Least certain, from RevMan's reference editor rather than a file or reader: IDENTIFIER
  (TYPE, VALUE) inside IDENTIFIERS, and the order of REFERENCE's children.

Each entry: element -> (attributes, children in order). A document follows the structure when every element is
known, its attributes are among those listed, and its children are among those listed and in that order (each
may repeat or be missing unless listed in `REQUIRED_CHILDREN`).
"""

Structure = dict[str, tuple[frozenset[str], tuple[str, ...]]]


def _e(attrs: str, children: str = "") -> tuple[frozenset[str], tuple[str, ...]]:
    return frozenset(attrs.split()), tuple(children.split())


_MOD = "MODIFIED MODIFIED_BY "
_ABSTRACT = (
    "ABS_BACKGROUND ABS_OBJECTIVES ABS_SEARCH_STRATEGY ABS_SELECTION_CRITERIA ABS_DATA_COLLECTION ABS_RESULTS "
    "ABS_CONCLUSIONS"
).split()
_DATA_COLLECTION = (
    "STUDY_SELECTION DATA_EXTRACTION QUALITY_ASSESSMENT EFFECT_MEASURES UNIT_OF_ANALYSIS MISSING_DATA "
    "HETEROGENEITY_ASSESSMENT BIAS_ASSESSMENT DATA_SYNTHESIS SUBGROUP_ANALYSIS SENSITIVITY_ANALYSIS"
).split()
_TEXT_SECTIONS = (
    _ABSTRACT
    + _DATA_COLLECTION
    + (
        "CONDITION INTERVENTION THEORY IMPORTANCE OBJECTIVES CRIT_STUDIES CRIT_PARTICIPANTS CRIT_INTERVENTIONS "
        "CRIT_OUTCOMES_PRIMARY CRIT_OUTCOMES_SECONDARY ELECTRONIC_SEARCHES OTHER_SEARCHES SEARCH_RESULTS "
        "INCLUDED_STUDIES_DESCR EXCLUDED_STUDIES_DESCR ALLOCATION BLINDING EXCLUSIONS SELECTIVE_REPORTING "
        "OTHER_BIAS_SOURCES INTERVENTION_EFFECTS SUMMARY_OF_RESULTS APPLICABILITY_OF_FINDINGS QUALITY_OF_EVIDENCE "
        "POTENTIAL_BIASES AGREEMENT IMPLICATIONS_PRACTICE IMPLICATIONS_RESEARCH ACKNOWLEDGEMENTS CONFLICT_OF_INTEREST "
        "CONTRIBUTIONS PRO_REV_DIFF PUBLIC_NOTES"
    ).split()
)

REAL: Structure = {
    "COCHRANE_REVIEW": _e(
        "DESCRIPTION DOI GROUP_ID ID MERGED_FROM MODIFIED MODIFIED_BY REVIEW_NO REVMAN_SUB_VERSION REVMAN_VERSION "
        "SPLIT_FROM STAGE STATUS TYPE VERSION_NO",
        "COVER_SHEET MAIN_TEXT STUDIES_AND_REFERENCES CHARACTERISTICS_OF_STUDIES QUALITY_ITEMS SOF_TABLES "
        "ADDITIONAL_TABLES ANALYSES_AND_DATA FIGURES FEEDBACK APPENDICES EXTENSIONS",
    ),
    "COVER_SHEET": _e(_MOD, "TITLE CONTACT CREATORS DATES WHATS_NEW HISTORY SOURCES_OF_SUPPORT MESH_TERMS KEYWORDS"),
    "TITLE": _e(_MOD),
    "DATES": _e("", "UP_TO_DATE LAST_SEARCH NEXT_STAGE PROTOCOL_PUBLISHED REVIEW_PUBLISHED LAST_CITATION_ISSUE"),
    "UP_TO_DATE": _e("", "DATE"),
    "LAST_SEARCH": _e("", "DATE"),
    "NEXT_STAGE": _e("", "DATE"),
    "DATE": _e("DAY MONTH YEAR"),
    "PROTOCOL_PUBLISHED": _e("ISSUE YEAR"),
    "REVIEW_PUBLISHED": _e("ISSUE YEAR"),
    "LAST_CITATION_ISSUE": _e("ISSUE YEAR"),
    "WHATS_NEW": _e(""),
    "HISTORY": _e(""),
    "SOURCES_OF_SUPPORT": _e("", "INTERNAL_SOURCES EXTERNAL_SOURCES"),
    "INTERNAL_SOURCES": _e(""),
    "EXTERNAL_SOURCES": _e(""),
    "MESH_TERMS": _e("VERIFIED"),
    "KEYWORDS": _e(""),
    "MAIN_TEXT": _e(
        "", "SUMMARY ABSTRACT BODY ACKNOWLEDGEMENTS CONFLICT_OF_INTEREST CONTRIBUTIONS PRO_REV_DIFF PUBLIC_NOTES"
    ),
    "ABSTRACT": _e("", " ".join(_ABSTRACT)),
    "BODY": _e("", "BACKGROUND OBJECTIVES METHODS RESULTS DISCUSSION CONCLUSIONS"),
    "BACKGROUND": _e("", "CONDITION INTERVENTION THEORY IMPORTANCE"),
    "METHODS": _e("", "SELECTION_CRITERIA SEARCH_METHODS DATA_COLLECTION"),
    "SELECTION_CRITERIA": _e("", "CRIT_STUDIES CRIT_PARTICIPANTS CRIT_INTERVENTIONS CRIT_OUTCOMES"),
    "CRIT_OUTCOMES": _e("", "CRIT_OUTCOMES_PRIMARY CRIT_OUTCOMES_SECONDARY"),
    "SEARCH_METHODS": _e("", "ELECTRONIC_SEARCHES OTHER_SEARCHES"),
    "DATA_COLLECTION": _e("", " ".join(_DATA_COLLECTION)),
    "RESULTS": _e("", "STUDY_DESCRIPTION STUDY_QUALITY INTERVENTION_EFFECTS"),
    "STUDY_DESCRIPTION": _e("", "SEARCH_RESULTS INCLUDED_STUDIES_DESCR EXCLUDED_STUDIES_DESCR"),
    "STUDY_QUALITY": _e("", "ALLOCATION BLINDING EXCLUSIONS SELECTIVE_REPORTING OTHER_BIAS_SOURCES"),
    "DISCUSSION": _e("", "SUMMARY_OF_RESULTS APPLICABILITY_OF_FINDINGS QUALITY_OF_EVIDENCE POTENTIAL_BIASES AGREEMENT"),
    "CONCLUSIONS": _e("", "IMPLICATIONS_PRACTICE IMPLICATIONS_RESEARCH"),
    # The text sections themselves (empty in the real file; RevMan's text is paragraphs).
    **{tag: _e("", "P") for tag in _TEXT_SECTIONS},
    "P": _e(""),
    "STUDIES_AND_REFERENCES": _e(_MOD, "STUDIES OTHER_REFERENCES"),
    "STUDIES": _e(_MOD, "INCLUDED_STUDIES EXCLUDED_STUDIES AWAITING_STUDIES ONGOING_STUDIES"),
    "INCLUDED_STUDIES": _e(_MOD, "STUDY"),
    "EXCLUDED_STUDIES": _e(_MOD, "STUDY"),
    "AWAITING_STUDIES": _e(_MOD, "STUDY"),
    "ONGOING_STUDIES": _e(_MOD, "STUDY"),
    "STUDY": _e("DATA_SOURCE ID MODIFIED MODIFIED_BY NAME YEAR", "REFERENCE IDENTIFIERS"),
    "REFERENCE": _e("PRIMARY TYPE", "IDENTIFIERS"),
    "IDENTIFIERS": _e(""),
    "OTHER_REFERENCES": _e("", "ADDITIONAL_REFERENCES OTHER_VERSIONS_REFERENCES PENDING_REFERENCES"),
    "ADDITIONAL_REFERENCES": _e(""),
    "OTHER_VERSIONS_REFERENCES": _e(""),
    "PENDING_REFERENCES": _e(""),
    "CHARACTERISTICS_OF_STUDIES": _e(
        _MOD,
        "CHARACTERISTICS_OF_INCLUDED_STUDIES CHARACTERISTICS_OF_EXCLUDED_STUDIES CHARACTERISTICS_OF_AWAITING_STUDIES "
        "CHARACTERISTICS_OF_ONGOING_STUDIES",
    ),
    "CHARACTERISTICS_OF_INCLUDED_STUDIES": _e(
        _MOD + "SORT_BY USER_DEF_1_ENABLED USER_DEF_2_ENABLED USER_DEF_3_ENABLED", "INCLUDED_CHAR FOOTNOTES"
    ),
    "INCLUDED_CHAR": _e("STUDY_ID", "CHAR_METHODS CHAR_PARTICIPANTS CHAR_INTERVENTIONS CHAR_OUTCOMES CHAR_NOTES"),
    "CHAR_METHODS": _e("", "P"),
    "CHAR_PARTICIPANTS": _e("", "P"),
    "CHAR_INTERVENTIONS": _e("", "P"),
    "CHAR_OUTCOMES": _e("", "P"),
    "CHAR_NOTES": _e("", "P"),
    "FOOTNOTES": _e(""),
    "CHARACTERISTICS_OF_EXCLUDED_STUDIES": _e("SORT_BY", "EXCLUDED_CHAR FOOTNOTES"),
    "CHARACTERISTICS_OF_AWAITING_STUDIES": _e(
        "SORT_BY USER_DEF_1_ENABLED USER_DEF_2_ENABLED USER_DEF_3_ENABLED", "AWAITING_CHAR FOOTNOTES"
    ),
    "CHARACTERISTICS_OF_ONGOING_STUDIES": _e(
        "SORT_BY USER_DEF_1_ENABLED USER_DEF_2_ENABLED USER_DEF_3_ENABLED", "ONGOING_CHAR FOOTNOTES"
    ),
    "QUALITY_ITEMS": _e(_MOD, "QUALITY_ITEM"),
    "QUALITY_ITEM": _e("CORE_ITEM ID LEVEL MODIFIED MODIFIED_BY NO", "NAME DESCRIPTION QUALITY_ITEM_DATA"),
    "NAME": _e(""),
    "DESCRIPTION": _e("", "P"),
    "QUALITY_ITEM_DATA": _e("", "QUALITY_ITEM_DATA_ENTRY"),
    "QUALITY_ITEM_DATA_ENTRY": _e("RESULT STUDY_ID", "DESCRIPTION"),
    "SOF_TABLES": _e(""),
    "ADDITIONAL_TABLES": _e(""),
    "ANALYSES_AND_DATA": _e("CALCULATED_DATA MODIFIED MODIFIED_BY", "COMPARISON"),
    "COMPARISON": _e("ID MODIFIED MODIFIED_BY NO", "NAME DICH_OUTCOME CONT_OUTCOME IV_OUTCOME"),
    "DICH_OUTCOME": _e(
        "CHI2 CI_END CI_START CI_STUDY CI_TOTAL DF EFFECT_MEASURE EFFECT_SIZE ESTIMABLE EVENTS_1 EVENTS_2 I2 I2_Q ID "
        "LOG_CI_END LOG_CI_START LOG_EFFECT_SIZE METHOD MODIFIED MODIFIED_BY NO P_CHI2 P_Q P_Z Q RANDOM SCALE SORT_BY "
        "STUDIES SUBGROUPS SUBGROUP_TEST SWAP_EVENTS TAU2 TOTALS TOTAL_1 TOTAL_2 WEIGHT Z",
        "NAME GROUP_LABEL_1 GROUP_LABEL_2 GRAPH_LABEL_1 GRAPH_LABEL_2 DICH_SUBGROUP DICH_DATA",
    ),
    "GROUP_LABEL_1": _e(""),
    "GROUP_LABEL_2": _e(""),
    "GRAPH_LABEL_1": _e(""),
    "GRAPH_LABEL_2": _e(""),
    "DICH_DATA": _e(
        "CI_END CI_START EFFECT_SIZE ESTIMABLE EVENTS_1 EVENTS_2 LOG_CI_END LOG_CI_START LOG_EFFECT_SIZE MODIFIED "
        "MODIFIED_BY ORDER O_E SE STUDY_ID TOTAL_1 TOTAL_2 VAR WEIGHT"
    ),
    "CONT_OUTCOME": _e(
        "CHI2 CI_END CI_START CI_STUDY CI_TOTAL DF EFFECT_MEASURE EFFECT_SIZE ESTIMABLE I2 I2_Q ID MODIFIED "
        "MODIFIED_BY NO P_CHI2 P_Q P_Z Q RANDOM SCALE SORT_BY STUDIES SUBGROUPS SUBGROUP_TEST TAU2 TOTALS TOTAL_1 "
        "TOTAL_2 UNITS WEIGHT Z",
        "NAME GROUP_LABEL_1 GROUP_LABEL_2 GRAPH_LABEL_1 GRAPH_LABEL_2 CONT_SUBGROUP CONT_DATA",
    ),
    "CONT_DATA": _e(
        "CI_END CI_START EFFECT_SIZE ESTIMABLE MEAN_1 MEAN_2 MODIFIED MODIFIED_BY ORDER SD_1 SD_2 SE STUDY_ID "
        "TOTAL_1 TOTAL_2 WEIGHT"
    ),
    "FIGURES": _e(""),
    "FEEDBACK": _e(""),
    "APPENDICES": _e(""),
    "EXTENSIONS": _e(""),
}

# Less certain: see the module docstring. Subgroup attributes are those of their outcome that concern one group of
# studies (meta reads NO, P_CHI2, I2 and the NAME child of a subgroup).
_SUBGROUP_ATTRS = (
    "CHI2 CI_END CI_START DF EFFECT_SIZE ESTIMABLE I2 ID LOG_CI_END LOG_CI_START LOG_EFFECT_SIZE MODIFIED "
    "MODIFIED_BY NO P_CHI2 P_Z STUDIES TAU2 TOTAL_1 TOTAL_2 WEIGHT Z"
)
FROM_READERS: Structure = {
    "REFERENCE": _e("PRIMARY TYPE", "AU TI SO YR VL NO PG IDENTIFIERS"),
    "AU": _e(""),
    "TI": _e(""),
    "SO": _e(""),
    "YR": _e(""),
    "VL": _e(""),
    "NO": _e(""),
    "PG": _e(""),
    "IDENTIFIERS": _e("", "IDENTIFIER"),
    "IDENTIFIER": _e("TYPE VALUE"),
    "EXCLUDED_CHAR": _e("STUDY_ID", "CHAR_REASON_FOR_EXCLUSION"),
    "CHAR_REASON_FOR_EXCLUSION": _e("", "P"),
    "AWAITING_CHAR": _e("STUDY_ID", "CHAR_METHODS CHAR_PARTICIPANTS CHAR_INTERVENTIONS CHAR_OUTCOMES CHAR_NOTES"),
    "ONGOING_CHAR": _e(
        "STUDY_ID",
        "CHAR_STUDY_NAME CHAR_METHODS CHAR_PARTICIPANTS CHAR_INTERVENTIONS CHAR_OUTCOMES CHAR_STARTING_DATE "
        "CHAR_CONTACT_INFORMATION CHAR_NOTES",
    ),
    "CHAR_STUDY_NAME": _e("", "P"),
    "CHAR_STARTING_DATE": _e("", "P"),
    "CHAR_CONTACT_INFORMATION": _e("", "P"),
    "DICH_SUBGROUP": _e(_SUBGROUP_ATTRS + " EVENTS_1 EVENTS_2", "NAME DICH_DATA"),
    "CONT_SUBGROUP": _e(_SUBGROUP_ATTRS, "NAME CONT_DATA"),
    "IV_SUBGROUP": _e(_SUBGROUP_ATTRS, "NAME IV_DATA"),
    "IV_OUTCOME": _e(
        "CHI2 CI_END CI_START CI_STUDY CI_TOTAL DF EFFECT_SIZE ESTIMABLE I2 I2_Q ID LOG_CI_END LOG_CI_START LOG_DATA "
        "LOG_EFFECT_SIZE METHOD MODIFIED MODIFIED_BY NO P_CHI2 P_Q P_Z Q RANDOM SCALE SORT_BY STUDIES SUBGROUPS "
        "SUBGROUP_TEST TAU2 TOTALS TOTAL_1 TOTAL_2 WEIGHT Z",
        "NAME GROUP_LABEL_1 GROUP_LABEL_2 GRAPH_LABEL_1 GRAPH_LABEL_2 EFFECT_MEASURE IV_SUBGROUP IV_DATA",
    ),
    "EFFECT_MEASURE": _e(""),
    "IV_DATA": _e(
        "CI_END CI_START EFFECT_SIZE ESTIMABLE LOG_CI_END LOG_CI_START LOG_EFFECT_SIZE MODIFIED MODIFIED_BY ORDER SE "
        "STUDY_ID TOTAL_1 TOTAL_2 WEIGHT"
    ),
}

STRUCTURE: Structure = {**REAL, **FROM_READERS}

# Children that may come in any order among themselves: a comparison's outcomes follow their numbers (NO), whatever
# their type (the real file happens to list its dichotomous outcome before its continuous one).
INTERLEAVED = {"COMPARISON": frozenset({"DICH_OUTCOME", "CONT_OUTCOME", "IV_OUTCOME"})}

# Children RevMan always wrote (in the real file) where a reader expects them.
REQUIRED_CHILDREN = {
    "COCHRANE_REVIEW": REAL["COCHRANE_REVIEW"][1],
    "COVER_SHEET": ("TITLE",),
    "STUDIES_AND_REFERENCES": ("STUDIES",),
    "STUDIES": REAL["STUDIES"][1],
    "CHARACTERISTICS_OF_STUDIES": REAL["CHARACTERISTICS_OF_STUDIES"][1],
    "INCLUDED_CHAR": REAL["INCLUDED_CHAR"][1],
    "QUALITY_ITEM": REAL["QUALITY_ITEM"][1],
    "COMPARISON": ("NAME",),
    "DICH_OUTCOME": ("NAME", "GROUP_LABEL_1", "GROUP_LABEL_2", "GRAPH_LABEL_1", "GRAPH_LABEL_2"),
    "CONT_OUTCOME": ("NAME", "GROUP_LABEL_1", "GROUP_LABEL_2", "GRAPH_LABEL_1", "GRAPH_LABEL_2"),
    "IV_OUTCOME": ("NAME", "GROUP_LABEL_1", "GROUP_LABEL_2", "GRAPH_LABEL_1", "GRAPH_LABEL_2", "EFFECT_MEASURE"),
    "DICH_SUBGROUP": ("NAME",),
    "CONT_SUBGROUP": ("NAME",),
    "IV_SUBGROUP": ("NAME",),
}

# Attributes RevMan wrote on every such element of the real file (the data rows and outcomes carry them even when
# the value is empty, i.e. not calculated).
REQUIRED_ATTRIBUTES = {
    "COCHRANE_REVIEW": frozenset({"REVMAN_VERSION", "REVMAN_SUB_VERSION", "TYPE", "STAGE", "STATUS", "ID"}),
    "STUDY": frozenset({"ID", "NAME", "YEAR", "DATA_SOURCE"}),
    "QUALITY_ITEM": frozenset({"CORE_ITEM", "ID", "LEVEL", "NO"}),
    "QUALITY_ITEM_DATA_ENTRY": frozenset({"RESULT", "STUDY_ID"}),
    "COMPARISON": frozenset({"ID", "NO"}),
    "DICH_OUTCOME": REAL["DICH_OUTCOME"][0]
    - {"MODIFIED", "MODIFIED_BY"}
    - {
        "LOG_CI_END",
        "LOG_CI_START",
        "LOG_EFFECT_SIZE",  # written for ratios only
    },
    "CONT_OUTCOME": REAL["CONT_OUTCOME"][0] - {"MODIFIED", "MODIFIED_BY"},
    "DICH_DATA": REAL["DICH_DATA"][0] - {"MODIFIED", "MODIFIED_BY", "LOG_CI_END", "LOG_CI_START", "LOG_EFFECT_SIZE"},
    "CONT_DATA": REAL["CONT_DATA"][0] - {"MODIFIED", "MODIFIED_BY"},
}

# What meta::read.rm5 reads (guido-s/meta: R/read.rm5.R `read.rm5.rm5` and its helper `extract_outcomes`):
# element -> attributes (xml_attr) and child elements (xml_find_all "//NAME" etc.). It reads every one of these and
# gets NA where one is missing, so an export must carry all those that apply to its kind of outcome.
META_READS = {
    "COMPARISON": (frozenset({"NO"}), ("NAME",)),
    "OUTCOME": (
        frozenset(
            {
                "NO",
                "TOTALS",
                "SUBGROUP_TEST",
                "DF",
                "RANDOM",
                "EFFECT_SIZE",
                "CI_START",
                "CI_END",
                "WEIGHT",
                "CI_STUDY",
                "CI_TOTAL",
                "Z",
                "P_Z",
                "Q",
                "P_Q",
                "I2",
                "TAU2",
                "TOTAL_1",
                "TOTAL_2",
            }
        ),
        ("NAME", "GROUP_LABEL_1", "GROUP_LABEL_2", "GRAPH_LABEL_1", "GRAPH_LABEL_2"),
    ),  # fmt: skip
    # METHOD: missing means inverse variance (as RevMan writes continuous outcomes); the measure of a generic
    # inverse variance outcome is an element, not an attribute.
    "DICH_OUTCOME": (frozenset({"EVENTS_1", "EVENTS_2", "SWAP_EVENTS", "METHOD", "EFFECT_MEASURE"}), ()),
    "CONT_OUTCOME": (frozenset({"EFFECT_MEASURE"}), ()),
    "IV_OUTCOME": (frozenset({"LOG_DATA", "METHOD"}), ("EFFECT_MEASURE",)),
    "SUBGROUP": (frozenset({"NO", "P_CHI2", "I2"}), ("NAME",)),
    "DATA": (
        frozenset({"STUDY_ID", "EFFECT_SIZE", "SE", "CI_START", "CI_END", "WEIGHT", "ORDER"}),
        (),
    ),
    "DICH_DATA": (frozenset({"EVENTS_1", "TOTAL_1", "EVENTS_2", "TOTAL_2"}), ()),
    "CONT_DATA": (frozenset({"MEAN_1", "SD_1", "TOTAL_1", "MEAN_2", "SD_2", "TOTAL_2"}), ()),
    "STUDY": (frozenset({"ID", "NAME", "YEAR"}), ()),  # under INCLUDED_STUDIES, merged by ID with the data rows
}
