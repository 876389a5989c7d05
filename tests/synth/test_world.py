"""The World: group structure, staff, patient base, and the random streams and time profiles.

Expectations are reasoned from the brief, not read off the generator: three institutions with the
geriatric centre older, at least 30 departments, physicians to nurses about 1:1.5-2, about five
pharmacists per 100 beds, valid GB 11643 identity numbers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from hospital_sdk.errors import GeneratorError
from hospital_sdk.synth.patients import age_years
from hospital_sdk.synth.reference import load_reference
from hospital_sdk.synth.rng import grouped_choice, rng_factory
from hospital_sdk.synth.timeline import clock, day_factor, to_day, weekday
from hospital_sdk.synth.world import build_world, validate_parameters

GB11643_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
GB11643_CHECK = "10X98765432"


@pytest.fixture(scope="module")
def world():
    return build_world(load_reference(), scale=0.05, years=(2024, 2025), seed=11,
                       rng=rng_factory(11))


def test_three_member_institutions_with_the_geriatric_centre(world):
    members = world.members
    assert list(members.role) == ["headquarters", "branch", "branch"]
    assert list(members.kind) == ["general", "general", "geriatric"]
    assert set(members.level) == {"3"}
    assert members.share.sum() == pytest.approx(1.0)
    campuses = world.campuses.groupby("institution_id").size()
    assert campuses["HK001"] == 2 and 1 <= campuses["HK002"] <= 2 and campuses["HK003"] == 1
    partners = world.institutions[~world.institutions.member]
    assert len(partners) >= 5 and set(partners.role) == {"partner"}


def test_departments_cover_the_assessed_specialties(world):
    d = world.departments
    assert len(d) >= 30
    hq = d[d.institution_id == "HK001"]
    assert (hq.kind == "clinical").sum() >= 30
    for code in ("26", "07", "28", "31", "50"):  # anaesthesia, paediatrics, ICU, pathology, TCM
        assert (hq.specialty_code == code).any(), code
    assert d.dept_id.is_unique
    geriatric = d[d.institution_id == "HK003"]
    assert not geriatric.specialty_code.isin(["05.02", "07", "07.07", "08"]).any()
    assert (geriatric.specialty_code == "03.10").any()
    for i in range(3):  # every member has emergency and health-check capacity
        own = d[d.inst == i]
        assert own.emergency_share.sum() == pytest.approx(1.0)
        assert own.outpatient_share.sum() == pytest.approx(1.0)
        assert own.inpatient_share.sum() == pytest.approx(1.0)
        assert own.is_health_check.any()


def test_wards_beds_and_quality_nursing(world):
    wards, beds = world.wards, world.ward_beds
    assert wards.ward_id.is_unique
    assert set(wards.dept_id) <= set(world.departments.dept_id)
    assert 0.7 < wards.quality_nursing.mean() < 1.0
    assert (beds.open_beds > 0).all()
    changed = beds.groupby("ward_id").size()
    assert (changed == 2).any(), "some wards change their open beds during the period"
    for ward_id in changed[changed == 2].index:
        rows = beds[beds.ward_id == ward_id].sort_values("valid_from")
        assert rows.valid_to.iloc[0] + dt.timedelta(days=1) == rows.valid_from.iloc[1]
    opened = wards[wards.valid_from > dt.date(2024, 1, 1)]
    assert len(opened) >= 1, "one ward opens during the period"


def test_staff_ratios_titles_and_turnover(world):
    s = world.staff
    counts = s.role.value_counts()
    assert 1.4 <= counts["nurse"] / counts["physician"] <= 2.1
    beds = world.departments.beds.sum()
    assert 3.5 <= counts["pharmacist"] * 100 / beds <= 7
    phys = s[s.role == "physician"]
    assert set(phys.title_level) >= {"1", "2", "3", "4"}
    assert 0.05 < (phys.title_level == "1").mean() < 0.2
    assert phys.is_resident.any() and (~phys.is_resident).any()
    start, end = dt.date(2024, 1, 1), dt.date(2026, 1, 1)
    assert ((s.employed_from >= start) & (s.employed_from < end)).any(), "joiners"
    assert s.employed_to.notna().any(), "leavers"
    assert all(isinstance(v, dt.date) for v in s.employed_from)
    assert s.staff_id.is_unique
    every = world.departments[(world.departments.kind == "clinical")
                              & (world.departments.has_outpatient
                                 | world.departments.has_inpatient)]
    assert set(every.dept_id) <= set(phys.dept_id), "every clinical department has a physician"


def test_geriatric_patients_are_older(world):
    pop = world.population
    age = age_years(pop.birth_day, np.full(len(pop), to_day("2024-01-01")))
    hq, ger = np.median(age[pop.institution == 0]), np.median(age[pop.institution == 2])
    assert ger >= hq + 15
    assert (age[pop.institution == 2] >= 18).all()


def test_identity_numbers_are_valid_resident_ids(world):
    pop = world.population
    sample = np.flatnonzero(pop.id_type == "01")[:2000]
    for i in sample:
        number = pop.id_number[i].decode()
        assert len(number) == 18
        total = sum(int(c) * w for c, w in zip(number[:17], GB11643_WEIGHTS, strict=True))
        check = GB11643_CHECK[total % 11]
        assert number[17] == check
        birth = dt.date(1970, 1, 1) + dt.timedelta(days=int(pop.birth_day[i]))
        assert number[6:14] == birth.strftime("%Y%m%d")
        assert int(number[16]) % 2 == (1 if pop.sex[i] == 1 else 0)
    missing = (pop.id_type == "").mean()
    assert 0.005 < missing < 0.1, "a small share of records has no identity number"


def test_some_persons_are_registered_at_two_institutions(world):
    pop = world.population
    persons, counts = np.unique(pop.person, return_counts=True)
    dual = persons[counts == 2]
    assert 0.01 < len(dual) / len(persons) < 0.1
    rec = np.flatnonzero(np.isin(pop.person, dual[:200]))
    by_person: dict[int, list[int]] = {}
    for r in rec:
        by_person.setdefault(int(pop.person[r]), []).append(int(r))
    for rows in by_person.values():
        a, b = rows
        assert pop.institution[a] != pop.institution[b]
        assert pop.id_number[a] == pop.id_number[b] and pop.birth_day[a] == pop.birth_day[b]


def test_master_tables_have_contract_schemas(world):
    from hospital_sdk.synth.schema import arrow_schema
    for name, table in world.tables().items():
        assert table.schema == arrow_schema(name), name
        assert table.num_rows > 0


def test_parameters_are_checked():
    assert validate_parameters(0.01, [2025, 2024]) == (0.01, (2024, 2025))
    for scale, years in ((0, (2024,)), (0.01, ()), (0.01, (2023, 2025)), (-1, (2024,))):
        with pytest.raises(GeneratorError):
            validate_parameters(scale, years)


def test_streams_are_independent_and_reproducible():
    streams = rng_factory(5)
    a = streams("outpatient/2024-01").random(5)
    streams("a new stream").random(100)
    assert np.array_equal(a, rng_factory(5)("outpatient/2024-01").random(5))
    assert not np.array_equal(a, rng_factory(6)("outpatient/2024-01").random(5))
    with pytest.raises(GeneratorError):
        rng_factory(-1)


def test_grouped_choice_matches_the_weights():
    rng = np.random.default_rng(3)
    offsets = np.array([0, 3, 5])
    weights = np.array([1.0, 2.0, 7.0, 0.0, 1.0])
    group = np.repeat([0, 1], 50_000)
    pos = grouped_choice(rng, group, offsets, weights)
    share = np.bincount(pos[group == 0], minlength=5)[:3] / 50_000
    assert np.allclose(share, [0.1, 0.2, 0.7], atol=0.01)
    assert (pos[group == 1] == 4).all()


def test_weekly_and_daily_profiles():
    days = np.arange(to_day("2024-03-04"), to_day("2024-03-11"))  # Monday to Sunday
    outpatient = day_factor(days, "outpatient")
    assert weekday(days)[np.argmax(outpatient)] == 0
    assert outpatient[:5].min() >= 2 * outpatient[5:].max()
    emergency = day_factor(days, "emergency")
    assert emergency.max() / emergency.min() < 1.2
    rng = np.random.default_rng(0)
    t = clock(rng, 20_000, "outpatient") / 3600
    assert ((t >= 8) & (t < 11)).mean() > ((t >= 14) & (t < 16)).mean() > 0.15
    assert (t < 6).mean() < 0.01
    night = clock(rng, 20_000, "emergency") / 3600
    assert (night < 6).mean() > 0.08
