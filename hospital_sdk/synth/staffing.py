"""Staff of the group's departments, and choosing the staff member who did something at a time.

Head counts follow the beds of each institution at the generated scale, spread over the
departments by the template's physician and nurse shares (about 1.7 nurses per physician),
pharmacists about 5 per 100 beds, technicians in laboratory, imaging and pathology, a few
administrators.
Titles, residents and licences are distributed as in a Chinese tertiary hospital; about 6 % a
year join and 3 % a year leave during the generated period. Every department keeps a *core* of
staff employed throughout, so an event can always name someone who worked there that day.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> titles = draw_titles(rng, np.array(["physician"] * 1000))
>>> sorted(set(titles)) == ["1", "2", "3", "4", "9"]
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hospital_sdk.synth.schema import DAY, NULL_TIME

ROLES = ("physician", "nurse", "pharmacist", "technician", "admin")
_TITLE_CODES = np.array(["1", "2", "3", "4", "5", "9"])
_TITLE_SHARES = {
    "physician": (0.10, 0.18, 0.32, 0.32, 0.0, 0.08),
    "nurse": (0.01, 0.06, 0.30, 0.35, 0.25, 0.03),
    "pharmacist": (0.03, 0.10, 0.35, 0.35, 0.12, 0.05),
    "technician": (0.03, 0.10, 0.35, 0.35, 0.12, 0.05),
    "admin": (0.02, 0.08, 0.30, 0.20, 0.05, 0.35),
}
_AGE_BY_TITLE = {"1": (45, 62), "2": (38, 58), "3": (30, 52), "4": (24, 42), "5": (20, 35),
                 "9": (23, 31)}
_ROLE_LETTER = {"physician": "D", "nurse": "N", "pharmacist": "P", "technician": "T",
                "admin": "A"}


def draw_titles(rng: np.random.Generator, roles: np.ndarray) -> np.ndarray:
    """A title level code for each staff member, by role."""
    out = np.empty(len(roles), dtype=object)
    for role, shares in _TITLE_SHARES.items():
        sel = np.flatnonzero(roles == role)
        p = np.asarray(shares) / np.sum(shares)
        out[sel] = _TITLE_CODES[rng.choice(len(p), size=len(sel), p=p)]
    return out.astype(str)


PHYSICIANS_PER_BED = 0.42
NURSES_PER_BED = 0.70
PHARMACISTS_PER_BED = 0.05
TECHNICIANS_PER_BED = 0.12
ADMIN_PER_BED = 0.06


def head_counts(departments: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Staff per department and role (one column per role).

    An institution's physicians and nurses are proportional to its beds at scale 1 times
    ``scale`` and spread over its departments by the template's ``physician_share`` and
    ``nurse_share``; pharmacists (5 per 100 beds) go to pharmacy, technicians to laboratory,
    imaging and pathology, administrators to administration. Every department with activity
    keeps at least one physician (and inpatient departments two nurses).
    """
    inst = departments["inst"].to_numpy()
    kind = departments["kind"].to_numpy().astype(str)
    beds_sf1 = departments["beds_sf1"].to_numpy(float)
    inst_beds = np.bincount(inst, weights=beds_sf1)[inst] * scale

    def spread(total: np.ndarray, share: np.ndarray) -> np.ndarray:
        norm = np.bincount(inst, weights=share)[inst]
        return np.round(total * np.where(norm > 0, share / np.where(norm > 0, norm, 1), 0))

    active = departments["has_outpatient"].to_numpy() | departments["has_inpatient"].to_numpy()
    has_beds = departments["beds"].to_numpy() > 0
    p_share = departments["physician_share"].to_numpy(float)
    phys = spread(inst_beds * PHYSICIANS_PER_BED, p_share)
    phys = np.where((kind == "clinical") & active, np.maximum(phys, 1), phys)
    phys = np.where((kind == "medtech") & (p_share > 0), np.maximum(phys, 1), phys)
    nurses = spread(inst_beds * NURSES_PER_BED, departments["nurse_share"].to_numpy(float))
    nurses = np.where((kind == "clinical") & has_beds, np.maximum(nurses, 2), nurses)
    nurses = np.where(kind == "nursing", np.maximum(nurses, 2), nurses)
    medtech = (kind == "medtech").astype(float) * np.maximum(p_share, 1e-3)
    tech = np.where(kind == "medtech", np.maximum(spread(inst_beds * TECHNICIANS_PER_BED,
                                                         medtech), 1), 0)
    pharmacy = (kind == "pharmacy").astype(float)
    pharm = np.where(pharmacy > 0, np.maximum(spread(inst_beds * PHARMACISTS_PER_BED, pharmacy),
                                              2), 0)
    admin_w = (kind == "admin").astype(float)
    admin = np.where(admin_w > 0, np.maximum(spread(inst_beds * ADMIN_PER_BED, admin_w), 1), 0)
    return pd.DataFrame({"physician": phys, "nurse": nurses, "pharmacist": pharm,
                         "technician": tech, "admin": admin}).astype(np.int64)


def build_staff(departments: pd.DataFrame, scale: float, prefixes: tuple[str, ...],
                start_day: int, end_day: int, rng: np.random.Generator) -> pd.DataFrame:
    """The ``staff`` frame: contract columns plus ``inst``, ``dept`` and ``core``."""
    counts = head_counts(departments, scale)
    dept = np.concatenate([np.repeat(np.arange(len(departments)), counts[r]) for r in ROLES])
    role = np.concatenate([np.repeat(r, counts[r].sum()) for r in ROLES]).astype(str)
    n = len(dept)
    title = draw_titles(rng, role)
    lo = np.array([_AGE_BY_TITLE[t][0] for t in title])
    hi = np.array([_AGE_BY_TITLE[t][1] for t in title])
    age = lo + (hi - lo) * rng.random(n)
    start_year = int(np.datetime64(start_day, "D").astype("datetime64[Y]").astype(int)) + 1970
    birth_year = (start_year - age).astype(np.int64)
    span_days = end_day - start_day
    years = span_days / 365.25
    # core staff: the first physician, nurse ... of a department stays throughout
    rank = pd.DataFrame({"d": dept, "r": role}).groupby(["d", "r"]).cumcount().to_numpy()
    core = rank < np.where(role == "physician", 2, 1)
    joiner = ~core & (rng.random(n) < 0.06 * years) & np.isin(title, ["3", "4", "5", "9"])
    leaver = ~core & ~joiner & (rng.random(n) < 0.03 * years)
    tenure = np.maximum(age - 22, 0.2) * rng.random(n)
    hired = (start_day - tenure * 365.25).astype(np.int64)
    hired = np.where(joiner, start_day + (rng.random(n) * span_days * 0.9).astype(np.int64), hired)
    left = np.where(leaver, start_day + 30 + (rng.random(n) * (span_days - 60)).astype(np.int64),
                    NULL_TIME)
    sex = np.where(role == "nurse", np.where(rng.random(n) < 0.95, "2", "1"),
                   np.where(rng.random(n) < 0.5, "1", "2"))
    resident = (role == "physician") & (((title == "9") & (rng.random(n) < 0.7))
                                        | ((title == "4") & (rng.random(n) < 0.15)))
    licensed = np.where(role == "admin", False,
                        np.where(resident & (title == "9"), rng.random(n) < 0.3,
                                 rng.random(n) < 0.985))
    inst = departments["inst"].to_numpy()[dept]
    spec = departments["specialty_code"].to_numpy().astype(object)[dept]
    specialty = np.where(np.isin(role, ["physician", "technician"]), spec,
                         np.where(role == "pharmacist", "69", None))
    order = np.lexsort((rng.random(n), dept, inst))
    seq = pd.Series(inst[order]).groupby(inst[order]).cumcount().to_numpy() + 1
    letter = np.array([_ROLE_LETTER[r] for r in role[order]])
    staff_id = [f"{prefixes[i]}{c}{s:05d}"
                for i, c, s in zip(inst[order], letter, seq, strict=True)]
    frame = pd.DataFrame({
        "staff_id": staff_id,
        "institution_id": departments["institution_id"].to_numpy()[dept[order]],
        "dept_id": departments["dept_id"].to_numpy()[dept[order]],
        "role": role[order], "is_licensed": licensed[order], "is_resident": resident[order],
        "title_level": title[order], "specialty_code": specialty[order],
        "sex": sex[order], "birth_year": birth_year[order],
        "employed_from": _dates(hired[order]), "employed_to": _dates(left[order]),
        "inst": inst[order], "dept": dept[order], "core": core[order],
    })
    return frame.reset_index(drop=True)


def _dates(days: np.ndarray) -> list:
    """Python dates (``None`` where missing), as in the other master frames."""
    out = days.astype("datetime64[D]").astype(object)
    return [None if d == NULL_TIME else v for d, v in zip(days, out, strict=True)]


@dataclass(frozen=True)
class StaffIndex:
    """Staff grouped by department and role, for choosing who did something at a given time.

    Within a (department, role) group the core staff come first.
    """

    ids: np.ndarray
    start: np.ndarray  # (n_depts, n_roles) first position of the group
    count: np.ndarray  # (n_depts, n_roles)
    core: np.ndarray  # (n_depts, n_roles) core members at the start of the group
    employed_from: np.ndarray  # seconds
    employed_to: np.ndarray  # seconds (int64 max when still employed)

    @classmethod
    def build(cls, staff: pd.DataFrame, n_depts: int) -> StaffIndex:
        """Index ``staff`` (as built by :func:`build_staff`)."""
        role = pd.Categorical(staff["role"], categories=ROLES).codes.astype(np.int64)
        dept = staff["dept"].to_numpy(np.int64)
        order = np.lexsort((~staff["core"].to_numpy(), role, dept))
        group = dept[order] * len(ROLES) + role[order]
        count = np.bincount(group, minlength=n_depts * len(ROLES))
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        core = np.bincount(group, weights=staff["core"].to_numpy()[order].astype(float),
                           minlength=n_depts * len(ROLES)).astype(np.int64)
        frm = np.array(list(staff["employed_from"]), dtype="datetime64[D]")[order].astype(
            np.int64) * DAY
        to_raw = np.array([np.datetime64("NaT") if v is None else v
                           for v in staff["employed_to"]], dtype="datetime64[D]")[order]
        to = np.where(np.isnat(to_raw), np.iinfo(np.int64).max,
                      to_raw.astype("datetime64[D]").astype(np.int64) * DAY + DAY)
        shape = (n_depts, len(ROLES))
        return cls(staff["staff_id"].to_numpy()[order].astype(str), start.reshape(shape),
                   count.reshape(shape), core.reshape(shape), frm, to)

    def choose(self, rng: np.random.Generator, dept: np.ndarray, time: np.ndarray,
               role: str = "physician") -> np.ndarray:
        """Positions (into :attr:`ids`) of a member of ``role`` in each ``dept`` employed at
        ``time`` (seconds); -1 where the department has nobody in that role."""
        r = ROLES.index(role)
        dept = np.asarray(dept, dtype=np.int64)
        start, count = self.start[dept, r], self.count[dept, r]
        pos = start + (rng.random(len(dept)) * count).astype(np.int64)
        for _ in range(4):
            bad = (count > 0) & ((self.employed_from[np.minimum(pos, len(self.ids) - 1)] > time)
                                 | (self.employed_to[np.minimum(pos, len(self.ids) - 1)] <= time))
            if not bad.any():
                break
            pos[bad] = start[bad] + (rng.random(int(bad.sum())) * count[bad]).astype(np.int64)
        else:
            core = np.maximum(self.core[dept, r], 1)
            pos[bad] = start[bad] + (rng.random(int(bad.sum())) * core[bad]).astype(np.int64)
        return np.where(count > 0, pos, -1)
