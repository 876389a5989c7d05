"""Patients: the base population of person records, drawing patients for events, the patient table.

A *person* may hold records at more than one institution of the group (a different
``patient_local_id`` at each, the same identity number): that is what the patient master index
has to link. The truth of who is who is kept apart in ``_truth/patient_identity.parquet``.

Records are kept sorted by institution, sex and birth date, so drawing "a woman aged 20–45 at
HQ on 3 March" is a binary search for a contiguous range plus one uniform draw, for millions of
events at once. A ``tilt`` above 1 favours the older end of the range (inpatients are older than
outpatients of the same department).

Identity numbers are 18-character resident identity numbers (GB 11643-1999): region of birth
registration, birth date, a sequence whose last digit is odd for men and even for women, and the
ISO 7064 MOD 11-2 check character.

Examples
--------
>>> check_character("11010519491231002")
'X'
>>> resident_ids(np.array([110105]), np.array([to_day("1949-12-31")]), np.array([2]))
array([b'11010519491231002X'], dtype='|S18')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hospital_sdk.synth.timeline import to_day
from hospital_sdk.synth.schema import DAY, build_table, joined, pick, text_ids

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_KEY_BLOCK = 10_000_000
_KEY_OFFSET = 60_000  # days, so that birth dates back to 1805 give positive keys
YEAR = 365.2425

#: Region codes (行政区划代码) of the catchment area: districts of the group's city, then
#: neighbouring cities and other provinces (birth registration elsewhere is common).
REGIONS = np.array([
    320102, 320104, 320105, 320106, 320111, 320113, 320114, 320115, 320116, 320117, 320118,
    320202, 320211, 320302, 320411, 320505, 320602, 321002, 321102, 341002, 340104, 370102,
    410105, 420106, 330106, 510104, 130102, 230102,
], dtype=np.int64)
_REGION_WEIGHTS = np.array([9, 9, 8, 8, 7, 7, 6, 6, 5, 4, 4, 2, 2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5,
                            1.2, 1.2, 1, 1, 1, 1, 0.8, 0.6, 0.6])

# payer codes (医疗付费方式) by age band: child, working age, older
_PAYERS = np.array(["1", "2", "3", "4", "5", "6", "7", "8", "9"])
_PAYER_BY_AGE = np.array([
    [0.00, 0.82, 0.00, 0.01, 0.05, 0.00, 0.11, 0.00, 0.01],
    [0.55, 0.28, 0.02, 0.01, 0.03, 0.01, 0.08, 0.01, 0.01],
    [0.56, 0.35, 0.01, 0.02, 0.00, 0.03, 0.02, 0.01, 0.00],
])


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a resident identity number."""
    s = sum(int(c) * int(w) for c, w in zip(first17, _WEIGHTS, strict=True)) % 11
    return chr(_CHECK[s])


def resident_ids(region: np.ndarray, birth_day: np.ndarray, sequence: np.ndarray) -> np.ndarray:
    """18-character resident identity numbers as a NumPy ``S18`` array (vectorised).

    ``sequence`` is the 3-digit order code (odd for men, even for women).
    """
    n = len(region)
    d = np.empty((n, 17), dtype=np.int64)
    for k in range(6):
        d[:, k] = region // 10 ** (5 - k) % 10
    dates = np.asarray(birth_day, dtype=np.int64).astype("datetime64[D]")
    y = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    m = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    ymd = y * 10_000 + m * 100 + dd
    for k in range(8):
        d[:, 6 + k] = ymd // 10 ** (7 - k) % 10
    for k in range(3):
        d[:, 14 + k] = sequence // 10 ** (2 - k) % 10
    out = np.empty((n, 18), dtype=np.uint8)
    out[:, :17] = d + 48
    out[:, 17] = _CHECK[(d * _WEIGHTS).sum(axis=1) % 11]
    return out.view("S18").ravel()


def age_years(birth_day: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Completed years of age on ``day`` (exact calendar arithmetic).

    >>> int(age_years(np.array([to_day("2000-03-01")]), np.array([to_day("2024-02-29")]))[0])
    23
    """
    b = np.asarray(birth_day, dtype=np.int64).astype("datetime64[D]")
    d = np.asarray(day, dtype=np.int64).astype("datetime64[D]")
    by, dy = b.astype("datetime64[Y]").astype(np.int64), d.astype("datetime64[Y]").astype(np.int64)
    # compare (month, day of month) rather than day of year, which leap years shift
    bm = b.astype("datetime64[M]").astype(np.int64) % 12
    dm = d.astype("datetime64[M]").astype(np.int64) % 12
    bdom = (b - b.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    ddom = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    before = (dm < bm) | ((dm == bm) & (ddom < bdom))
    return dy - by - before.astype(np.int64)


@dataclass(frozen=True)
class AgeProfile:
    """Age mix of an institution's patients: band edges in years and the share of each band."""

    edges: tuple[float, ...]
    shares: tuple[float, ...]

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` ages in (fractional) years."""
        p = np.asarray(self.shares) / np.sum(self.shares)
        band = rng.choice(len(p), size=n, p=p)
        lo, hi = np.asarray(self.edges)[band], np.asarray(self.edges)[band + 1]
        return lo + (hi - lo) * rng.random(n)


GENERAL_AGES = AgeProfile((0, 1, 7, 15, 25, 35, 45, 55, 65, 75, 85, 100),
                          (2.5, 5, 5, 10, 16, 15, 13, 13, 11, 7, 2.5))
GERIATRIC_AGES = AgeProfile((18, 45, 60, 70, 80, 90, 102), (3, 14, 30, 31, 18, 4))


@dataclass(frozen=True)
class Population:
    """Patient records of the group's institutions, sorted by institution, sex and birth date.

    Attributes
    ----------
    institution
        Index of the institution (into the group members) holding the record.
    number
        Record number within the institution (becomes ``patient_local_id``).
    person
        Person id, shared by the records of one person at several institutions.
    sex
        1 = male, 2 = female.
    birth_day
        Birth date, days since 1970-01-01.
    id_number
        Identity number (``S18``); empty when the record has none.
    id_type
        ``"01"`` resident card, ``"03"`` passport, ``""`` none.
    region
        Region code of residence.
    payer
        Usual payer code of the person.
    prior
        Registered before the generated period (otherwise registered at the first visit).
    prefixes
        ``patient_local_id`` prefix of each institution.
    """

    institution: np.ndarray
    number: np.ndarray
    person: np.ndarray
    sex: np.ndarray
    birth_day: np.ndarray
    id_number: np.ndarray
    id_type: np.ndarray
    region: np.ndarray
    payer: np.ndarray
    prior: np.ndarray
    prefixes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.number)

    @property
    def key(self) -> np.ndarray:
        """The sort key (institution, sex, birth date)."""
        return ((self.institution.astype(np.int64) * 2 + self.sex - 1) * _KEY_BLOCK
                + self.birth_day + _KEY_OFFSET)

    @cached_property
    def all_local_ids(self) -> pa.Array:
        """``patient_local_id`` of every record (built once)."""
        return joined(pick(list(self.prefixes), self.institution),
                      text_ids("", self.number, 9))

    def local_ids(self, index: np.ndarray) -> pa.Array:
        """``patient_local_id`` of records ``index``."""
        return self.all_local_ids.take(pa.array(np.asarray(index, dtype=np.int64)))

    def draw(self, rng: np.random.Generator, institution: np.ndarray, day: np.ndarray,
             min_age: np.ndarray, max_age: np.ndarray, sex: np.ndarray,
             tilt: np.ndarray | float = 1.0, female_share: float = 0.54) -> np.ndarray:
        """Record indices of patients for events at ``institution`` on ``day``.

        Parameters
        ----------
        institution, day
            Per event: institution index and day (days since epoch).
        min_age, max_age
            Per event: age range in years (inclusive of ``max_age``).
        sex
            Per event: 0 = either (drawn with ``female_share``), 1 = male, 2 = female.
        tilt
            Exponent of the draw within the range: > 1 favours older patients.
        """
        n = len(day)
        key = self.key
        sex = np.where(sex == 0, 1 + (rng.random(n) < female_share), sex).astype(np.int64)
        block = (np.asarray(institution, dtype=np.int64) * 2 + sex - 1) * _KEY_BLOCK + _KEY_OFFSET
        day = np.asarray(day, dtype=np.int64)
        oldest = day - np.ceil((np.asarray(max_age) + 1) * YEAR).astype(np.int64)
        youngest = day - np.floor(np.asarray(min_age) * YEAR).astype(np.int64)
        lo = np.searchsorted(key, block + oldest, side="left")
        hi = np.searchsorted(key, block + youngest, side="right")
        empty = hi <= lo
        if empty.any():  # nobody of that age: anyone of the institution and sex born by then
            lo = np.where(empty, np.searchsorted(key, block - _KEY_OFFSET, side="left"), lo)
            hi = np.where(empty, np.searchsorted(key, block + day, side="right"), hi)
            hi = np.maximum(hi, lo + 1)
        u = rng.random(n) ** np.asarray(tilt, dtype=float)
        return np.minimum(lo + (u * (hi - lo)).astype(np.int64), len(key) - 1)


def make_population(rng: np.random.Generator, sizes: np.ndarray, profiles: list[AgeProfile],
                    prefixes: tuple[str, ...], start_day: int, end_day: int,
                    dual_share: float = 0.04, geriatric: int | None = None) -> Population:
    """The base population: ``sizes[i]`` primary records at institution ``i``, plus dual records.

    Parameters
    ----------
    sizes
        Persons whose main institution is each institution.
    profiles
        Age profile of each institution (ages on ``start_day``; some are born during the period).
    prefixes
        ``patient_local_id`` prefixes.
    start_day, end_day
        The generated period (days since epoch, end exclusive).
    dual_share
        Share of persons who also hold a record at a second institution.
    geriatric
        Index of the geriatric institution: dual records of people over 55 go there first.
    """
    inst = np.repeat(np.arange(len(sizes)), sizes)
    n = len(inst)
    ages = np.empty(n)
    for i, profile in enumerate(profiles):
        sel = inst == i
        ages[sel] = profile.draw(rng, int(sel.sum()))
    # some "infants" are born during the period, so every month has newborn outpatients
    born_later = (ages < 1) & (rng.random(n) < 0.6)
    birth = np.where(born_later, start_day + (rng.random(n) * (end_day - start_day - 30)),
                     start_day - ages * YEAR).astype(np.int64)
    sex = np.where(ages < 15, 1 + (rng.random(n) < 0.46),
                   1 + (rng.random(n) < 0.54)).astype(np.int8)
    person = rng.permutation(n).astype(np.int64) + 1
    region = rng.choice(REGIONS, size=n, p=_REGION_WEIGHTS / _REGION_WEIGHTS.sum())
    birth_region = np.where(rng.random(n) < 0.8, region,
                            rng.choice(REGIONS, size=n, p=_REGION_WEIGHTS / _REGION_WEIGHTS.sum()))
    seq = rng.integers(0, 500, n) * 2 + np.where(sex == 1, 1, 0)
    ids = resident_ids(birth_region, birth, seq)
    kind = rng.random(n)
    id_type = np.where(kind < 0.025, "", np.where(kind < 0.028, "03", "01"))
    id_type = np.where(born_later & (rng.random(n) < 0.6), "", id_type)
    passport = np.char.add(b"E", np.char.zfill(rng.integers(0, 10**8, n).astype("S8"), 8))
    ids = np.where(id_type == "01", ids, np.where(id_type == "03", passport, b"")).astype("S18")
    band = np.digitize(ages, [15, 60])
    cdf = np.cumsum(_PAYER_BY_AGE, axis=1)[band]
    payer = np.minimum((rng.random(n)[:, None] > cdf).sum(axis=1), 8).astype(np.int8)
    prior = (~born_later) & (rng.random(n) < 0.62)

    # dual registrations: a copy of the person at a second institution
    dual = np.flatnonzero(rng.random(n) < dual_share)
    k = len(sizes)
    second = (inst[dual] + 1 + rng.integers(0, max(k - 1, 1), len(dual))) % k
    if geriatric is not None:
        older = (ages[dual] >= 55) & (inst[dual] != geriatric) & (rng.random(len(dual)) < 0.6)
        second = np.where(older, geriatric, second)
        second = np.where((second == geriatric) & (ages[dual] < 30), inst[dual], second)
    moved = second != inst[dual]
    dual, second = dual[moved], second[moved]
    take = np.concatenate([np.arange(n), dual])
    inst_all = np.concatenate([inst, second])
    prior_all = np.concatenate([prior, rng.random(len(dual)) < 0.4])
    order = np.lexsort((take, birth[take], sex[take], inst_all))
    take, inst_all, prior_all = take[order], inst_all[order], prior_all[order]
    # record numbers: dense within institution, in a shuffled order (HIS numbers are not by age)
    number = np.empty(len(take), dtype=np.int64)
    for i in range(k):
        sel = np.flatnonzero(inst_all == i)
        number[sel] = 100_000 + rng.permutation(len(sel))
    return Population(
        institution=inst_all.astype(np.int8), number=number, person=person[take],
        sex=sex[take], birth_day=birth[take], id_number=ids[take], id_type=id_type[take],
        region=region[take], payer=payer[take], prior=prior_all, prefixes=prefixes,
    )


def registration_times(rng: np.random.Generator, population: Population, first_seen: np.ndarray,
                       start_day: int, end_day: int) -> np.ndarray:
    """``registered_at`` (seconds) of every record: before the period for records registered
    earlier, shortly before the first visit for new ones (``first_seen``: seconds, or the
    ``int64`` maximum when never seen)."""
    n = len(population)
    never = first_seen == np.iinfo(np.int64).max
    earliest = np.maximum(population.birth_day, to_day("2003-01-01"))
    before = earliest + rng.random(n) * np.maximum(start_day - earliest, 1)
    before_s = (before * DAY).astype(np.int64) + rng.integers(7 * 3600, 17 * 3600, n)
    fresh = first_seen - rng.integers(60, 1800, n)
    unseen = (np.maximum(population.birth_day, start_day) * DAY
              + (rng.random(n) * (end_day - np.maximum(population.birth_day, start_day)) * DAY)
              ).astype(np.int64)
    at = np.where(population.prior, before_s, np.where(never, unseen, fresh))
    at = np.where(~never, np.minimum(at, first_seen - 60), at)
    return np.maximum(at, population.birth_day * DAY)


def patient_table(population: Population, registered_at: np.ndarray, has_stay: np.ndarray,
                  institution_ids: tuple[str, ...], rng: np.random.Generator) -> pa.Table:
    """The ``patient`` source table of all records."""
    idx = np.arange(len(population))
    card = rng.random(len(idx)) < 0.8
    return build_table("patient", {
        "institution_id": pick(list(institution_ids), population.institution),
        "patient_local_id": population.local_ids(idx),
        "medical_record_number": medical_record_numbers(population, idx, ~has_stay),
        "outpatient_card_number": _masked(
            text_ids("", population.institution.astype(np.int64) * 10**11
                     + population.number * 7 + 3 * 10**10, 12), ~card),
        "sex": pick(["1", "2"], population.sex.astype(np.int64) - 1),
        "birth_date": population.birth_day,
        "id_document_type": _blank_to_null(population.id_type.astype(str)),
        "id_number": _blank_to_null(population.id_number.astype("U18")),
        "residence_region_code": text_ids("", population.region, 6),
        "registered_at": registered_at,
    })


def medical_record_numbers(population: Population, index: np.ndarray,
                           missing: np.ndarray | None = None) -> pa.Array:
    """病案号 of records ``index`` (8 digits; the institution's own numbering)."""
    numbers = text_ids("", population.number[index] * 3 + 10_000_000 - 300_000, 8)
    return numbers if missing is None else _masked(numbers, missing)


def _masked(values: pa.Array, missing: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(missing), pa.nulls(len(values), values.type), values)


def _blank_to_null(values: np.ndarray) -> pa.Array:
    arr = pa.array(values, pa.string())
    return _masked(arr, values == "")
