-- Data-subject requests, their deadlines and the PRC working-day calendar
-- (src/requests/).  Dates are compared or printed as China Standard Time
-- days, so the output does not depend on the day the test runs.
SELECT governance.set_database_region('CN');
\set SHOW_CONTEXT never

-- an empty database has no requests
SELECT count(*) AS requests FROM governance.requests;

-- ------------------------------------------------------------------ calendar
SELECT year, source ~ ('^国务院办公厅关于' || year || '年部分节假日安排的通知') AS cites_notice, published
FROM governance.calendar_year ORDER BY year;
SELECT EXTRACT(year FROM day) AS year, kind, count(*) FROM governance.calendar
GROUP BY 1, 2 ORDER BY 1, 2;
-- Spring Festival 2025 under the amended holiday rules: from New Year's Eve, 8 days
SELECT day, EXTRACT(isodow FROM day) AS dow, kind, name FROM governance.calendar
WHERE day BETWEEN '2025-01-25' AND '2025-02-09' ORDER BY day;
-- every adjusted working day falls on a weekend
SELECT count(*) AS weekday_workdays FROM governance.calendar
WHERE kind = 'workday' AND EXTRACT(isodow FROM day) < 6;

SELECT d, n, governance.add_working_days(d, n) AS due, note
FROM (VALUES
    ('2025-03-07'::date, 0, 'n = 0 is d itself'),
    ('2025-03-07', 1, 'Friday: over the weekend to Monday'),
    ('2025-03-07', 5, 'a plain week'),
    ('2025-01-24', 1, 'Sunday 2025-01-26 is an adjusted working day'),
    ('2025-01-24', 2, ''),
    ('2025-01-27', 1, 'Spring Festival 2025: 01-28 to 02-04 off'),
    ('2025-01-27', 3, ''),
    ('2025-02-06', 2, 'Saturday 2025-02-08 is an adjusted working day'),
    ('2024-02-08', 1, 'New Year''s Eve 2024-02-09 is not a holiday in 2024'),
    ('2024-02-08', 2, 'Spring Festival 2024, Sunday 02-18 worked'),
    ('2024-09-27', 5, 'National Day 2024, Sunday 09-29 worked'),
    ('2025-09-30', 1, 'National Day and Mid-Autumn 2025: 10-01 to 10-08 off'),
    ('2025-09-30', 2, 'Saturday 2025-10-11 is an adjusted working day'),
    ('2024-12-31', 1, 'New Year 2025: one day, no adjustment'),
    ('2025-12-31', 1, 'New Year 2026: 01-01 to 01-03 off, Sunday 01-04 worked'),
    ('2026-02-13', 1, 'Saturday 2026-02-14 is an adjusted working day'),
    ('2026-02-13', 2, 'Spring Festival 2026: 02-15 to 02-23 off'),
    ('2025-04-30', 1, 'Labour Day 2025: 05-01 to 05-05 off')
) t(d, n, note);

SELECT governance.is_working_day('2025-01-26') AS sun_worked, governance.is_working_day('2025-01-29') AS festival,
       governance.is_working_day('2025-03-08') AS saturday, governance.is_working_day('2027-03-01') AS unknown_year;

-- bad input and the edges of the calendar
SELECT governance.add_working_days('2025-03-07', -1);
SELECT governance.add_working_days('2026-12-28', 5);
SELECT governance.add_working_days('2023-12-29', 1);
SELECT governance.add_working_days('infinity', 1);
SELECT governance.add_working_days('2025-03-07', NULL) IS NULL AS strict;
-- an adjusted working day on a Wednesday is not one
INSERT INTO governance.calendar (day, kind, name) VALUES ('2025-03-12', 'workday', 'x');
-- a DBA corrects the shipped calendar: a changed shipped row becomes the
-- DBA's (dumped), a deleted or replaced one is noted in calendar_removed (a
-- restore deletes it again), and a row of one's own stays one's own
BEGIN;
UPDATE governance.calendar SET name = '春节 (corrected)' WHERE day = '2025-01-29';
DELETE FROM governance.calendar WHERE day = '2025-01-26';
INSERT INTO governance.calendar (day, kind, name) VALUES ('2025-02-08', 'holiday', 'no longer a working Saturday');
SELECT day, kind, name, builtin FROM governance.calendar
WHERE day IN ('2025-01-26', '2025-01-29', '2025-02-08') ORDER BY day;
SELECT day, year FROM governance.calendar_removed ORDER BY day;
SELECT governance.is_working_day('2025-01-26') AS sun_worked, governance.is_working_day('2025-02-08') AS sat_worked;
-- a deletion with check_function_bodies off (as pg_restore runs) is noted too
SET LOCAL check_function_bodies = off;
DELETE FROM governance.calendar WHERE day = '2025-04-04';
RESET check_function_bodies;
SELECT count(*) AS noted FROM governance.calendar_removed WHERE day = '2025-04-04';
-- what a restore does with a noted day: the shipped row goes again, and the
-- note is not added twice
SELECT set_config('governance.shipping_calendar', 'on', true) IS NOT NULL AS shipping;
INSERT INTO governance.calendar (day, kind, name, builtin) VALUES ('2025-01-26', 'workday', 'shipped again', true);
SELECT set_config('governance.shipping_calendar', 'off', true) IS NOT NULL AS shipped;
INSERT INTO governance.calendar_removed (day) VALUES ('2025-01-26');
SELECT count(*) AS shipped_again FROM governance.calendar WHERE day = '2025-01-26';
SELECT count(*) AS notes FROM governance.calendar_removed WHERE day = '2025-01-26';
SAVEPOINT s;
-- only the extension ships rows, and a row of one's own stays one's own
INSERT INTO governance.calendar (day, kind, name, builtin) VALUES ('2025-10-08', 'holiday', 'x', true);
ROLLBACK TO s;
UPDATE governance.calendar SET builtin = true WHERE day = '2025-02-08';
ROLLBACK;
-- a DBA extends the calendar with a year
BEGIN;
INSERT INTO governance.calendar_year (year, source) VALUES (2027, 'test notice');
INSERT INTO governance.calendar (day, kind, name) VALUES ('2027-01-01', 'holiday', '元旦');
SELECT governance.add_working_days('2026-12-28', 5);
ROLLBACK;

-- ------------------------------------------------------------------ policies
SELECT governance.load_bundled_policy('jinpai-mail'), governance.load_bundled_policy('ctyun-huiju-2024'),
       governance.load_bundled_policy('21vianet-online-2020');
-- 21Vianet 2020: the cases where a request need not be answered
SELECT e ->> 'ground' AS ground, e ->> 'source' AS source
FROM governance.rules r, jsonb_array_elements(r.parameters -> 'exemptions') e
WHERE r.policy = '21vianet-online-2020' AND r.rule_id = 'dsr.manage';
-- the schema checks them
SELECT governance.load_policy($y$
policy: {name: exemption-test, version: "1", title: t, controller: c}
rules:
  subject_rights:
    - id: dsr.x
      requests: [access]
      deadline: P15D
      exemptions:
        - {ground: too_busy, source: "x"}
      source: "x"
$y$);
SELECT governance.load_policy($y$
policy: {name: exemption-test, version: "1", title: t, controller: c}
rules:
  subject_rights:
    - id: dsr.x
      requests: [access]
      deadline: P15D
      exemptions:
        - {ground: trade_secret, source: "x"}
        - {ground: trade_secret, source: "y"}
      source: "x"
$y$);

-- ------------------------------------------------------------------ deadlines
-- ctyun: 3 working days normally, never more than 7 days; the earlier one is due
SELECT (opened AT TIME ZONE 'Asia/Shanghai') AS opened_cst, d.rule_id, d.deadline, d.days,
       ((d.due_at - interval '1 microsecond') AT TIME ZONE 'Asia/Shanghai')::date AS due_date
FROM (VALUES ('2025-03-03 10:00+08'::timestamptz), ('2025-01-27 10:00+08'), ('2024-09-27 18:00+08'),
             ('2025-01-27 23:30+08')) o(opened),
     governance._request_deadline('ctyun-huiju-2024', 'access', o.opened) d;
SELECT d.rule_id, ((d.due_at - interval '1 microsecond') AT TIME ZONE 'Asia/Shanghai')::date AS due_date
FROM governance._request_deadline('jinpai-mail', 'deletion', '2025-01-27 10:00+08') d;
SELECT d.rule_id, ((d.due_at - interval '1 microsecond') AT TIME ZONE 'Asia/Shanghai')::date AS due_date
FROM governance._request_deadline('21vianet-online-2020', 'access', '2025-09-30 10:00+08') d;
SELECT count(*) AS no_rule FROM governance._request_deadline('jinpai-mail', 'export', now());
-- a working-day deadline past the calendar's years
SELECT governance._request_due('2026-12-30 10:00+08', 'P3D', 'working');
SELECT governance._request_due('2025-03-03 10:00+08', 'PT72H', 'working');

-- pauses move the due date: by working days, by days, or to the minute
-- (due 2025-02-07; a due date ends at the midnight after it, China Standard Time)
SELECT ((governance._request_shift_due('2025-02-07 16:00+00', 'P3D', 'working',
          '2025-01-24 10:00+08', '2025-01-27 10:00+08') - interval '1 microsecond')
        AT TIME ZONE 'Asia/Shanghai')::date AS working_moved_2,
       ((governance._request_shift_due('2025-02-07 16:00+00', 'P3D', 'working',
          '2025-01-28 10:00+08', '2025-02-04 17:00+08') - interval '1 microsecond')
        AT TIME ZONE 'Asia/Shanghai')::date AS festival_moves_none,
       ((governance._request_shift_due('2025-02-07 16:00+00', 'P15D', 'calendar',
          '2025-01-28 10:00+08', '2025-02-04 17:00+08') - interval '1 microsecond')
        AT TIME ZONE 'Asia/Shanghai')::date AS calendar_moved_7,
       (governance._request_shift_due('2025-02-07 16:00+00', 'PT72H', 'calendar',
          '2025-01-28 10:00+08', '2025-01-28 12:30+08') AT TIME ZONE 'Asia/Shanghai') AS hours_moved;

-- ------------------------------------------------------------------ requests
CREATE ROLE req_admin;
GRANT governance_admin TO req_admin;
CREATE ROLE req_reader;
GRANT governance_reader TO req_reader;
CREATE ROLE req_app;

SET ROLE req_admin;
-- no policy bound to the database
SELECT governance.open_request('user-1', 'access');
RESET ROLE;
SELECT governance.bind_database('jinpai-mail');
SET ROLE req_admin;
SELECT governance.open_request('user-1', 'acces');
SELECT governance.open_request('user-1', 'export');
SELECT governance.open_request('', 'access');
SELECT governance.open_request(repeat('x', 1001), 'access');
SELECT governance.open_request('user-1', 'access', 'no-such-policy');

SELECT governance.open_request('user-1', 'access') AS r1 \gset
SELECT governance.open_request('user-2', 'deletion') AS r2 \gset
SELECT governance.open_request('user-3', 'access', '21vianet-online-2020') AS r3 \gset
SELECT request_id = :r1 AS r1, subject, kind, policy, rule_id, deadline, days, status, overdue,
       due_date - (opened_at AT TIME ZONE 'Asia/Shanghai')::date AS days_to_due,
       due_at = (due_date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai' AS due_at_end_of_day,
       opened_by = session_user AS opened_by_me
FROM governance.requests ORDER BY request_id;

-- pause while the identity is verified, then resume
SELECT governance.pause_request(:r1);
SELECT status, paused_at IS NOT NULL AS paused, overdue FROM governance.requests WHERE request_id = :r1;
\set VERBOSITY terse
SELECT governance.pause_request(:r1);
\set VERBOSITY default
SELECT governance.resume_request(:r2);
RESET ROLE;
-- the verification took three days (moved into the past by the superuser)
SELECT due_at AS due_before FROM governance.request WHERE request_id = :r1 \gset
UPDATE governance.request SET paused_at = paused_at - interval '3 days' WHERE request_id = :r1;
UPDATE governance.request_pause SET started_at = started_at - interval '3 days' WHERE request_id = :r1;
SET ROLE req_admin;
SELECT governance.resume_request(:r1) - :'due_before'::timestamptz AS moved_by;
SELECT status, paused_total >= interval '3 days' AS paused_3_days, overdue FROM governance.requests WHERE request_id = :r1;
SELECT governance.resume_request(:r1);
RESET ROLE;
SELECT count(*) AS pauses, bool_and(ended_at IS NOT NULL AND ended_by = session_user) AS ended
FROM governance.request_pause WHERE request_id = :r1;

-- overdue: a request opened forty days ago (moved into the past by the superuser)
UPDATE governance.request SET opened_at = opened_at - interval '40 days', due_at = due_at - interval '40 days'
WHERE request_id = :r2;
SET ROLE req_admin;
SELECT request_id = :r2 AS r2, status, overdue FROM governance.requests WHERE overdue;
\set VERBOSITY terse
SELECT governance.pause_request(:r2);
\set VERBOSITY default

-- closing
SELECT governance.close_request(:r2, 'declined', 'trade_secret');
SELECT governance.close_request(:r2, 'finished');
SELECT governance.close_request(:r2, 'answered', 'trade_secret');
SELECT governance.close_request(:r2);
SELECT governance.close_request(:r3, 'declined', 'too_busy');
SELECT governance.close_request(:r3, 'declined');
SELECT governance.pause_request(:r3);
SELECT governance.close_request(:r3, 'declined', 'trade_secret');
\set VERBOSITY terse
SELECT governance.close_request(:r3);
SELECT governance.pause_request(:r3);
SELECT governance.resume_request(:r3);
\set VERBOSITY default
SELECT governance.close_request(:r1, 'withdrawn');
SELECT governance.close_request(999999);
SELECT subject, status, outcome, ground, overdue, answered_late, closed_by = session_user AS closed_by_me,
       paused_at IS NULL AS not_paused
FROM governance.requests ORDER BY request_id;
RESET ROLE;

-- who may do what
SET ROLE req_reader;
SELECT count(*) AS visible FROM governance.requests;
SELECT governance.open_request('user-4', 'access');
SET ROLE req_app;
SELECT count(*) FROM governance.requests;
SELECT governance.open_request('user-4', 'access');
SELECT governance.close_request(1);
SELECT governance._request_due(now(), 'P3D', 'working');
SELECT governance.add_working_days('2025-01-27', 3) AS anyone_counts;
INSERT INTO governance.calendar (day, kind, name) VALUES ('2025-03-08', 'workday', 'x');
RESET ROLE;

SELECT governance.bind_database(NULL);
DROP ROLE req_admin, req_reader, req_app;
