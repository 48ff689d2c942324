"""The synthetic agency of ``bench/status.py``, generated set-based inside PostgreSQL.

`bench.status.generate` draws every person, assignment and submission in Python and sends
them as rows: an hour and several GB at 1,000,000 employees.  Here the server draws them
itself (``generate_series`` and ``random()``, seeded with ``setseed``) in a dozen
``INSERT … SELECT`` statements: minutes.  The shape is the same, drawn with the same
probabilities (see `bench.status`'s docstring): one Secretary carrying every code, about 8
in 58 people heads (two a unit) carrying `bench.seed.HEAD_CODES`, five in eight of them SPT,
one in eight SKM_RTL, RKBM and SHS, one in eight LKJP and SPP; staff carrying
`bench.seed.STAFF_CODES` under a head drawn at random (one in ten also SERAPAN, one in a
hundred exempt from SKP 2025); nine in ten SKP carriers submitted SKP 2025 (late, from
1 March, one in nine of them; one in fifty twice: a correction with a newer id), a third of
SPT carriers SPT 2025, the Secretary EPANTAU (verified) and LKSKPD; APBD 2025 adopted on
20 December 2024.  The draws are the server's, not Python's: the same seed gives the same
agency here, not the same people as `bench.status.generate`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text

from bench.seed import HEAD_CODES, STAFF_CODES
from bench.status import HEAD_SHARE
from scheduler.store.db import Database

RECORDED = "2025-03-01 09:00+08"  # when the records were written, in WITA
ZONE = "Asia/Makassar"

# Each person once, with the draws the rows below read (r1: SPT or SERAPAN; r2: a head's
# extra codes; r3: an exemption).  ``boss`` is a staff member's head, drawn at random.
PEOPLE = """
CREATE TEMPORARY TABLE gen_people ON COMMIT DROP AS
SELECT i AS id,
       CASE WHEN i = 1 THEN 'secretary' WHEN i <= :heads + 1 THEN 'head' ELSE 'staff' END AS kind,
       CASE WHEN i = 1 THEN NULL WHEN i <= :heads + 1 THEN 1
            ELSE 2 + floor(random() * :heads)::int END AS boss,
       random() AS r1, random() AS r2, random() AS r3
FROM generate_series(1, :employees) AS i
"""
UNITS = """
INSERT INTO units (id, name)
SELECT i, CASE WHEN i = 1 THEN 'Sekretariat'
               ELSE 'Bidang ' || lpad((i - 1)::text, greatest(5, length((i - 1)::text)), '0') END
FROM generate_series(1, :units) AS i
"""
EMPLOYEES = f"""
INSERT INTO employees (id, key, nip, name, position, unit_id, superior_id, superior_origin,
                       roles, telegram_chat_id, email, active, review, updated_at)
SELECT id, nip, nip, 'PEGAWAI ' || lpad(id::text, greatest(6, length(id::text)), '0'),
       CASE kind WHEN 'secretary' THEN 'Sekretaris' WHEN 'head' THEN 'Kepala Bidang'
                 ELSE 'Pengolah Data dan Informasi' END,
       CASE kind WHEN 'secretary' THEN 1 WHEN 'head' THEN 1 + (id - 2) / 2
                 ELSE 1 + (boss - 2) / 2 END,
       boss, 'iki',
       CASE kind WHEN 'secretary' THEN 'secretary unit_head' WHEN 'head' THEN 'unit_head'
                 ELSE '' END,
       NULL, NULL, true, '', TIMESTAMPTZ '{RECORDED}'
FROM (SELECT *, '19' || lpad(id::text, 16, '0') AS nip FROM gen_people) AS p
ORDER BY id
"""
# Every (person, code) carried, in the order of the people.
CARRIED = """
CREATE TEMPORARY TABLE gen_carried ON COMMIT DROP AS
SELECT id AS employee_id, code, random() AS draw, random() AS late, random() AS again
FROM (
  SELECT id, unnest(CAST(:all_codes AS text[])) AS code FROM gen_people WHERE kind = 'secretary'
  UNION ALL
  SELECT id, unnest(CAST(:head_codes AS text[])
                    || CASE WHEN r1 < 5.0 / 8 THEN ARRAY['SPT'] ELSE '{}' END
                    || CASE WHEN r2 < 1.0 / 8 THEN ARRAY['SKM_RTL', 'RKBM', 'SHS']
                            WHEN r2 < 2.0 / 8 THEN ARRAY['LKJP', 'SPP'] ELSE '{}' END)
  FROM gen_people WHERE kind = 'head'
  UNION ALL
  SELECT id, unnest(CAST(:staff_codes AS text[])
                    || CASE WHEN r1 < 0.10 THEN ARRAY['SERAPAN'] ELSE '{}' END)
  FROM gen_people WHERE kind = 'staff'
) AS carried
"""
ASSIGNMENTS = """
INSERT INTO assignments (employee_id, rule_code, origin, starts_on, review)
SELECT employee_id, code, 'iki', DATE '2025-01-01', '' FROM gen_carried ORDER BY employee_id
"""
EXEMPTIONS = f"""
INSERT INTO exemptions (employee_id, rule_code, period, reason, recorded_by, recorded_at)
SELECT id, 'SKP', '2025', 'Cuti besar', 'bench', TIMESTAMPTZ '{RECORDED}'
FROM gen_people WHERE kind = 'staff' AND r3 < 0.01 ORDER BY id
"""
# The day each submission was handed in: SKP (nine in ten; from 1 March for one in nine of
# those), SPT (a third); a correction for one SKP in fifty, on that day or later.
HANDED_IN = """
CREATE TEMPORARY TABLE gen_handed ON COMMIT DROP AS
SELECT employee_id, code, day,
       CASE WHEN code = 'SKP' AND again < 0.02
            THEN day + floor(random() * (DATE '2025-03-03' - day + 1))::int END AS corrected
FROM (
  SELECT employee_id, code, again,
         CASE WHEN code = 'SPT' THEN DATE '2025-01-15' + floor(late * 48)::int
              WHEN draw > 0.80 THEN DATE '2025-03-01' + floor(late * 3)::int
              ELSE DATE '2025-02-01' + floor(late * 28)::int END AS day
  FROM gen_carried
  WHERE (code = 'SKP' AND draw < 0.90) OR (code = 'SPT' AND draw < 0.33)
) AS drawn
"""


def _submissions(day: str, where: str) -> str:
    """Submissions on ``day`` (an expression of gen_handed) at a random minute from 07:00
    to 17:00 WITA, for the rows ``where`` selects, in the order of the people."""
    return f"""
INSERT INTO submissions (employee_id, rule_code, period, submitted_at, evidence, source,
                         recorded_by, recorded_at)
SELECT employee_id, code, '2025',
       ({day} + make_interval(mins => 420 + floor(random() * 601)::int))::timestamp
         AT TIME ZONE '{ZONE}',
       '', 'import', 'bench', TIMESTAMPTZ '{RECORDED}'
FROM gen_handed WHERE {where} ORDER BY employee_id
"""


SECRETARY_OWN = f"""
INSERT INTO submissions (employee_id, rule_code, period, submitted_at, evidence, source,
                         recorded_by, recorded_at, verified_at, verified_by)
VALUES (1, 'EPANTAU', '2025-01', TIMESTAMPTZ '2025-01-09 10:00+08', '', 'import', 'bench',
        TIMESTAMPTZ '{RECORDED}', TIMESTAMPTZ '{RECORDED}', 'bench'),
       (1, 'EPANTAU', '2025-02', TIMESTAMPTZ '2025-02-07 10:00+08', '', 'import', 'bench',
        TIMESTAMPTZ '{RECORDED}', TIMESTAMPTZ '{RECORDED}', 'bench'),
       (1, 'LKSKPD', '2025', TIMESTAMPTZ '2025-01-22 10:00+08', '', 'import', 'bench',
        TIMESTAMPTZ '{RECORDED}', NULL, NULL)
"""
EVENT = f"""
INSERT INTO events (code, key, day, recorded_by, recorded_at)
VALUES ('APBD_ADOPTED', '2025', DATE '2024-12-20', 'bench', TIMESTAMPTZ '{RECORDED}')
"""
COUNTS = ("units", "employees", "assignments", "exemptions", "submissions")


def generate_sql(
    database: Database, employees: int, seed: int, codes: Iterable[str]
) -> dict[str, int]:
    """Write the synthetic agency into an empty PostgreSQL database, in one transaction;
    return row counts per table, as `bench.status.generate` does."""
    heads = max(1, round((employees - 1) * HEAD_SHARE))
    values = {
        "employees": employees,
        "heads": heads,
        "units": max(1, (heads + 1) // 2),
        "all_codes": list(codes),
        "head_codes": list(HEAD_CODES),
        "staff_codes": list(STAFF_CODES),
    }
    with database.engine.begin() as connection:
        connection.execute(text("SELECT setseed(:seed)"), {"seed": (seed % 1000) / 1000})
        for statement in (PEOPLE, UNITS, EMPLOYEES, CARRIED, ASSIGNMENTS, EXEMPTIONS, HANDED_IN):
            connection.execute(text(statement), values)
        connection.execute(text(_submissions("day", "true")))
        connection.execute(text(_submissions("corrected", "corrected IS NOT NULL")))
        connection.execute(text(SECRETARY_OWN))
        connection.execute(text(EVENT))
        for table in ("units", "employees"):  # explicit ids: move the sequences on
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            connection.execute(text(f"SELECT setval({sequence}, max(id)) FROM {table}"))
        counted = {t: connection.scalar(text(f"SELECT count(*) FROM {t}")) for t in COUNTS}
    return {table: int(count or 0) for table, count in counted.items()}
