"""Certainty (GRADE) writes: an editor's or owner's rating of one outcome in one comparison, and its sign-off.

A save names the `version` it read and locks the row; a stale one is refused with what changed since. Every
non-zero change of a domain needs its explanation (it becomes the Summary of Findings footnote). The level is
computed here (`grade.certainty`), never taken from the client. A signed-off rating that is changed returns to
draft: the sign-off covers exactly what the editor saw."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from core.exceptions import ServiceConflict
from extraction.models import Comparison, Outcome
from grading import grade
from grading.models import CERTAINTY_DOMAINS, CERTAINTY_DOWNGRADES, CertaintyRating
from reviews.models import Membership, Review
from reviews.selectors import review_get_for_user
from synthesis.models import Analysis

AnyUser = User | AnonymousUser
Role = Membership.Role

DOMAIN_LABELS = {
    "risk_of_bias": "Risk of bias (study limitations)",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication_bias": "Publication bias",
    "large_effect": "Large effect",
    "dose_response": "Dose-response gradient",
    "confounding": "Opposing plausible confounding",
}
EDITABLE = ("start", "importance", "imprecision_threshold", "assumed_risk", "comments")


def _spot(review: Review, comparison_id: int | str, outcome_id: int | str) -> tuple[Comparison, Outcome]:
    try:
        comparison = Comparison.objects.get(review=review, pk=int(comparison_id))
        outcome = Outcome.objects.get(review=review, pk=int(outcome_id))
    except (Comparison.DoesNotExist, Outcome.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such comparison or outcome in this review.") from exc
    return comparison, outcome


def _locked(review: Review, comparison: Comparison, outcome: Outcome) -> CertaintyRating:
    """The rating row, locked; made (with the defaults) on its first save. Two first saves at once: the loser of
    the insert reads the winner's row, and its version check then refuses it if it read nothing."""
    found = CertaintyRating.objects.select_for_update().filter(comparison=comparison, outcome=outcome).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            CertaintyRating.objects.create(review=review, comparison=comparison, outcome=outcome, version=0)
    except IntegrityError:
        pass
    return CertaintyRating.objects.select_for_update().get(comparison=comparison, outcome=outcome)


def _what_changed(rating: CertaintyRating, version: int) -> str:
    """The fields that differ between the version the client read and now, from the rating's history."""
    if version == 0:
        return "it was rated for the first time"
    then = rating.history.filter(version=version).order_by("-history_id").first()
    if then is None:
        return "its ratings"
    fields = [
        name
        for name in (*CERTAINTY_DOMAINS, "explanations", *EDITABLE, "status")
        if getattr(then, name) != getattr(rating, name)
    ]
    labels = [DOMAIN_LABELS.get(name, name.replace("_", " ")) for name in fields]
    who = rating.updated_by.username if rating.updated_by else "someone"
    return f"{', '.join(labels) or 'nothing visible'} (by {who})"


def _check_version(rating: CertaintyRating, version: int | None) -> None:
    if version is None:
        raise ValidationError({"version": "Give the version you read (0 for an outcome not rated yet)."})
    try:
        version = int(version)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"version": "The version must be a whole number."}) from exc
    if version != rating.version:
        raise ServiceConflict(
            f"This certainty rating was saved elsewhere since you opened it (your version {version}, now "
            f"{rating.version}). Changed since: {_what_changed(rating, version)}. Reload to see it; your change "
            "was not saved."
        )


def _clean_changes(changes: Mapping[str, Any]) -> dict[str, int]:
    errors: dict[str, str] = {}
    cleaned: dict[str, int] = {}
    for domain, value in changes.items():
        if domain not in CERTAINTY_DOMAINS:
            errors[f"changes.{domain}"] = f"Unknown GRADE domain; expected one of {', '.join(CERTAINTY_DOMAINS)}."
            continue
        try:
            number = int(value)
            if isinstance(value, bool) or str(number) != str(value).strip().lstrip("+"):
                raise ValueError
        except (TypeError, ValueError):
            errors[f"changes.{domain}"] = f"Give a whole number of levels, not {value!r}."
            continue
        allowed = grade.DOWNGRADE_DOMAINS.get(domain) or grade.UPGRADE_DOMAINS[domain]
        if number not in allowed:
            choices = ", ".join(f"{v:+d}" if v else "0" for v in allowed)
            errors[f"changes.{domain}"] = f"Must be one of {choices}, not {number:+d}."
            continue
        cleaned[domain] = number
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def certainty_save(
    *,
    user: AnyUser,
    review_id: int,
    comparison_id: int | str,
    outcome_id: int | str,
    version: int | None,
    changes: Mapping[str, Any] | None = None,
    explanations: Mapping[str, str] | None = None,
    **fields: Any,
) -> CertaintyRating:
    """Save the rating of one outcome (editors and owners). `changes` {domain: levels} and `explanations`
    {domain: text} replace the domains they name; `fields` may set start, importance, imprecision_threshold,
    assumed_risk and comments. Version 0 is the version of an outcome never rated."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    comparison, outcome = _spot(review, comparison_id, outcome_id)
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise ValidationError({name: "Not a field of a certainty rating." for name in unknown})
    rating = _locked(review, comparison, outcome)
    _check_version(rating, version)
    for domain, value in _clean_changes(changes or {}).items():
        setattr(rating, domain, value)
    merged = dict(rating.explanations or {})
    for domain, text in (explanations or {}).items():
        if domain not in CERTAINTY_DOMAINS:
            raise ValidationError({f"explanations.{domain}": "Unknown GRADE domain."})
        text = (text or "").strip()
        if len(text) > 2000:
            raise ValidationError({f"explanations.{domain}": "Keep an explanation under 2,000 characters."})
        if text:
            merged[domain] = text
        else:
            merged.pop(domain, None)
    for name, value in fields.items():
        setattr(rating, name, value)
    _validate_fields(rating)
    missing = [d for d in CERTAINTY_DOMAINS if getattr(rating, d) and not merged.get(d)]
    if missing:
        raise ValidationError(
            {
                f"explanations.{d}": f"Explain why you rate {DOMAIN_LABELS[d].lower()} "
                f"{'down' if d in CERTAINTY_DOWNGRADES else 'up'}: the explanation becomes the footnote."
                for d in missing
            }
        )
    rating.explanations = merged
    downgrades = {d: getattr(rating, d) for d in CERTAINTY_DOWNGRADES}
    upgrades = {d: getattr(rating, d) for d in CERTAINTY_DOMAINS if d not in CERTAINTY_DOWNGRADES}
    rating.level = grade.certainty(rating.start, downgrades, upgrades).level
    _stamp(rating)
    rating.status = CertaintyRating.Status.DRAFT
    rating.signed_off_by, rating.signed_off_at = None, None
    rating.version += 1
    rating.updated_by = user if isinstance(user, User) else None
    rating._history_user = rating.updated_by  # type: ignore[attr-defined]
    rating.save()
    return rating


def _analysis_of(rating: CertaintyRating) -> Analysis | None:
    return Analysis.objects.filter(comparison_id=rating.comparison_id, outcome_id=rating.outcome_id).first()


def _stamp(rating: CertaintyRating) -> None:
    """Record the summary the rating is made on (its input hash and measure)."""
    analysis = _analysis_of(rating)
    rating.rated_input_hash = analysis.input_hash if analysis else ""
    rating.rated_measure = analysis.effect_measure if analysis else ""


def data_changed(rating: CertaintyRating | None, analysis: Analysis | None) -> bool:
    """Whether the outcome summary's inputs or effect measure changed since the rating was saved."""
    if rating is None or rating.version == 0 or analysis is None:
        return False
    return (rating.rated_input_hash, rating.rated_measure) != (analysis.input_hash, analysis.effect_measure)


def _data_changed(rating: CertaintyRating) -> bool:
    return data_changed(rating, _analysis_of(rating))


def _validate_fields(rating: CertaintyRating) -> None:
    errors: dict[str, str] = {}
    if rating.start not in CertaintyRating.Start.values:
        errors["start"] = "Start at high (randomised trials; ROBINS-I) or low (other non-randomised studies)."
    if rating.importance not in CertaintyRating.Importance.values:
        errors["importance"] = f"One of {', '.join(CertaintyRating.Importance.values)}."
    for name in ("imprecision_threshold", "assumed_risk"):
        value = getattr(rating, name)
        if value in ("", None):
            setattr(rating, name, None)
            continue
        try:
            setattr(rating, name, float(value))
        except (TypeError, ValueError):
            errors[name] = f"Give a number, not {value!r}."
    if rating.assumed_risk is not None and not 0 < rating.assumed_risk < 1:
        errors["assumed_risk"] = (
            "Give a risk above 0 and below 1 (e.g. 0.2 for 200 per 1,000): at 0 or 1 a relative effect gives no "
            "absolute one (use a risk difference)."
        )
    if rating.imprecision_threshold is not None and rating.imprecision_threshold != rating.imprecision_threshold:
        errors["imprecision_threshold"] = "Give a number."
    if len(rating.comments or "") > 5000:
        errors["comments"] = "Keep comments under 5,000 characters."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def certainty_sign_off(
    *, user: AnyUser, review_id: int, comparison_id: int | str, outcome_id: int | str, version: int | None
) -> CertaintyRating:
    """The editor's sign-off of the rating as it stands at `version` (editors and owners)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    comparison, outcome = _spot(review, comparison_id, outcome_id)
    rating = CertaintyRating.objects.select_for_update().filter(comparison=comparison, outcome=outcome).first()
    if rating is None or rating.version == 0:
        raise ValidationError({"version": "Rate this outcome before signing it off."})
    _check_version(rating, version)
    if _data_changed(rating):
        raise ValidationError(
            {"version": "The outcome summary changed since this rating was saved: check the rating and save it again "
             "before signing it off."}
        )  # fmt: skip
    if rating.status == CertaintyRating.Status.SIGNED_OFF:
        return rating
    rating.status = CertaintyRating.Status.SIGNED_OFF
    rating.signed_off_by = user if isinstance(user, User) else None
    rating.signed_off_at = timezone.now()
    rating.version += 1
    rating.updated_by = rating.signed_off_by
    rating._history_user = rating.updated_by  # type: ignore[attr-defined]
    rating.save()
    return rating
