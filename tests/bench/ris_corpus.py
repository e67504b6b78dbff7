"""A large synthetic RIS file for benchmarks: realistic field layout, invented words, ~10% near-duplicates."""

import random
from pathlib import Path

WORDS = (
    "ketamine opioid cancer pain randomised trial placebo morphine adjuvant analgesia crossover intrathecal "
    "subcutaneous intravenous bolus dose response neuropathic refractory palliative care outcome adverse events "
    "hallucinations satisfaction function distress withdrawal efficacy safety cohort systematic review adults "
    "methadone gabapentin infusion rescue medication consumption intensity scale visual analogue numeric rating"
).split()
SURNAMES = "Hardy Quinn Yang Wong Mercadante Bell Eccleston Kalso Jonkman Smith Tanaka Garcia Novak Okafor".split()
JOURNALS = ["Journal of Pain and Symptom Management", "Palliative Medicine", "Pain", "BMJ", "Lancet Oncology"]


def _record(rng: random.Random, n: int) -> list[str]:
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + f" {n}"
    authors = [f"{rng.choice(SURNAMES)}, {rng.choice('ABCDEFGHJK')}." for _ in range(rng.randint(2, 6))]
    abstract = " ".join(rng.choice(WORDS) for _ in range(rng.randint(120, 220))).capitalize() + "."
    start = rng.randint(1, 2000)
    lines = ["TY  - JOUR", f"TI  - {title}", *(f"AU  - {a}" for a in authors)]
    lines += [
        f"PY  - {rng.randint(1980, 2024)}",
        f"JO  - {rng.choice(JOURNALS)}",
        f"VL  - {rng.randint(1, 80)}",
        f"IS  - {rng.randint(1, 12)}",
        f"SP  - {start}",
        f"EP  - {start + rng.randint(3, 15)}",
        f"DO  - 10.{rng.randint(1000, 9999)}/bench.{n}",
        f"AB  - {abstract}",
        *(f"KW  - {rng.choice(WORDS)}" for _ in range(5)),
        f"UR  - https://example.org/record/{n}",
        "ER  - ",
        "",
    ]
    return lines


def write_ris(path: Path, records: int, seed: int = 20261125) -> Path:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not security
    with path.open("w", encoding="utf-8") as out:
        previous: list[list[str]] = []
        for n in range(records):
            if previous and rng.random() < 0.1:
                # A near-duplicate of an earlier record: same paper from another database, title case changed.
                lines = list(rng.choice(previous))
                lines[1] = lines[1].upper()
            else:
                lines = _record(rng, n)
                if len(previous) < 5000:
                    previous.append(lines)
            out.write("\n".join(lines) + "\n")
    return path
