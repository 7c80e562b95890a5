-- src/requests/calendar.sql — the PRC working-day calendar (spec section 9):
-- public holidays and the adjusted working days (调休) that the State Council
-- publishes each year, the years they cover with the notice each year's dates
-- come from, and governance.add_working_days, which counts on them.
-- Requests (requests.sql) take their working-day deadlines from here.
--
-- A day is a working day when the calendar says 'workday' (a weekend day
-- made a working day), or when it is Monday to Friday and the calendar does
-- not say 'holiday'.  Days are days of China Standard Time.  A year that is
-- not in calendar_year is not known: counting into it is an error, never a
-- guess (the notice for a year appears only in the autumn before it).

CREATE TABLE calendar_year (
    year            integer PRIMARY KEY CHECK (year BETWEEN 1949 AND 9999),
    source          text NOT NULL CHECK (source OPERATOR(pg_catalog.<>) ''),
    published       date,
    builtin         boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE calendar_year IS 'years whose holidays and adjusted working days governance.calendar holds completely, with the State Council notice they come from';

CREATE TABLE calendar (
    day             date PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name            text NOT NULL,
    source          text,                   -- NULL: the notice of the day's year (calendar_year)
    builtin         boolean NOT NULL DEFAULT false,
    -- an adjusted working day is a Saturday or Sunday; every other weekday is one anyway
    CONSTRAINT calendar_workday_on_weekend
        CHECK (kind OPERATOR(pg_catalog.=) 'holiday'
               OR EXTRACT(isodow FROM day) OPERATOR(pg_catalog.>=) 6)
);
COMMENT ON TABLE calendar IS 'PRC public holidays (kind holiday) and weekend days that are working days (kind workday, 调休); extend it with the years the State Council publishes';

-- The shipped rows removed by a DBA (a day, or a year), so that a dump and
-- restore removes them again from what CREATE EXTENSION ships.
CREATE TABLE calendar_removed (
    day             date,
    year            integer,
    removed_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    removed_by      name NOT NULL DEFAULT pg_catalog.session_user(),
    CHECK ((day IS NULL) OPERATOR(pg_catalog.<>) (year IS NULL))
);
COMMENT ON TABLE calendar_removed IS 'shipped rows of governance.calendar and calendar_year that a DBA removed or moved; dumped, and applied again when restored';

-- pg_dump keeps what a DBA added or changed (a changed shipped row is the
-- DBA's from then on) and what a DBA removed; the rows below come with the
-- install script
SELECT pg_catalog.pg_extension_config_dump('calendar_year', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('calendar', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('calendar_removed', '');

GRANT SELECT ON calendar, calendar_year, calendar_removed TO PUBLIC;
GRANT INSERT, UPDATE, DELETE ON calendar, calendar_year TO governance_admin;
GRANT INSERT ON calendar_removed TO governance_admin;

-- ---------------------------------------------------------------------------
-- A DBA's changes to the shipped rows survive a dump and restore.  Any
-- change to a shipped row notes its day (or year) in calendar_removed:
-- - a row a DBA adds for a day (or year) the calendar ships replaces the
--   shipped one;
-- - a shipped row a DBA changes becomes the DBA's (builtin false: dumped);
-- - a shipped row a DBA deletes is gone.
-- Restored over a fresh install, calendar_removed's rows delete the shipped
-- rows again, and the DBA's rows come back with the dump.  A day is noted
-- once: a restored note of a day already noted (the DBA's row for it was
-- restored first) is not added again.  Only the install script ships rows.
-- ---------------------------------------------------------------------------
CREATE FUNCTION _calendar_note_removed(d date, y integer) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $fn$
    INSERT INTO @extschema@.calendar_removed (day, year)
    SELECT d, y
    WHERE NOT EXISTS (SELECT 1 FROM @extschema@.calendar_removed r
                      WHERE r.day IS NOT DISTINCT FROM d AND r.year IS NOT DISTINCT FROM y);
$fn$;

-- ... of a row of calendar (its day) or of calendar_year (its year)
CREATE FUNCTION _calendar_note_row(r jsonb) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT @extschema@._calendar_note_removed((r OPERATOR(pg_catalog.->>) 'day')::date,
                                              (r OPERATOR(pg_catalog.->>) 'year')::integer);
$fn$;

CREATE FUNCTION _calendar_replace() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF NEW.builtin THEN
        IF pg_catalog.current_setting('governance.shipping_calendar', true) IS DISTINCT FROM 'on' THEN
            RAISE EXCEPTION 'only the extension ships calendar rows'
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'Shipped rows (builtin) are left out of dumps: the row would be lost in a dump and restore.',
                      HINT = 'Insert the row with builtin false (the default): it is yours, and dumped.';
        END IF;
        RETURN NEW;
    END IF;
    IF TG_TABLE_NAME = 'calendar' THEN
        DELETE FROM @extschema@.calendar c WHERE c.day OPERATOR(pg_catalog.=) NEW.day AND c.builtin;
        IF FOUND THEN
            PERFORM @extschema@._calendar_note_removed(NEW.day, NULL);
        END IF;
    ELSE
        DELETE FROM @extschema@.calendar_year y WHERE y.year OPERATOR(pg_catalog.=) NEW.year AND y.builtin;
        IF FOUND THEN
            PERFORM @extschema@._calendar_note_removed(NULL, NEW.year);
        END IF;
    END IF;
    RETURN NEW;
END
$fn$;

CREATE FUNCTION _calendar_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    IF NOT OLD.builtin THEN
        IF NEW.builtin THEN
            RAISE EXCEPTION 'a row of your own cannot be made a shipped one'
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'Shipped rows (builtin) are left out of dumps: the row would be lost in a dump and restore.',
                      HINT = 'Leave builtin false.';
        END IF;
        RETURN NEW;
    END IF;
    NEW.builtin := false;
    PERFORM @extschema@._calendar_note_row(pg_catalog.to_jsonb(OLD));
    RETURN NEW;
END
$fn$;

CREATE FUNCTION _calendar_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    -- (a shipped row replaced, or deleted again on restore: noted by the caller)
    IF OLD.builtin AND pg_catalog.pg_trigger_depth() OPERATOR(pg_catalog.=) 1 THEN
        PERFORM @extschema@._calendar_note_row(pg_catalog.to_jsonb(OLD));
    END IF;
    RETURN OLD;
END
$fn$;

CREATE FUNCTION _calendar_removed_apply() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
BEGIN
    -- restored (or added by hand): the shipped row goes; noted by a change of
    -- ours (depth > 1), the change itself takes care of it
    IF pg_catalog.pg_trigger_depth() OPERATOR(pg_catalog.=) 1 THEN
        DELETE FROM @extschema@.calendar c WHERE c.day OPERATOR(pg_catalog.=) NEW.day AND c.builtin;
        DELETE FROM @extschema@.calendar_year y WHERE y.year OPERATOR(pg_catalog.=) NEW.year AND y.builtin;
    END IF;
    -- noted already: once is enough
    IF EXISTS (SELECT 1 FROM @extschema@.calendar_removed r
               WHERE r.day IS NOT DISTINCT FROM NEW.day AND r.year IS NOT DISTINCT FROM NEW.year) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$fn$;

CREATE TRIGGER calendar_replace BEFORE INSERT ON calendar FOR EACH ROW EXECUTE FUNCTION _calendar_replace();
CREATE TRIGGER calendar_change BEFORE UPDATE ON calendar FOR EACH ROW EXECUTE FUNCTION _calendar_change();
CREATE TRIGGER calendar_delete BEFORE DELETE ON calendar FOR EACH ROW EXECUTE FUNCTION _calendar_delete();
CREATE TRIGGER calendar_year_replace BEFORE INSERT ON calendar_year FOR EACH ROW EXECUTE FUNCTION _calendar_replace();
CREATE TRIGGER calendar_year_change BEFORE UPDATE ON calendar_year FOR EACH ROW EXECUTE FUNCTION _calendar_change();
CREATE TRIGGER calendar_year_delete BEFORE DELETE ON calendar_year FOR EACH ROW EXECUTE FUNCTION _calendar_delete();
CREATE TRIGGER calendar_removed_apply BEFORE INSERT ON calendar_removed FOR EACH ROW EXECUTE FUNCTION _calendar_removed_apply();
REVOKE ALL ON FUNCTION _calendar_note_removed(date, integer), _calendar_note_row(jsonb), _calendar_replace(),
    _calendar_change(), _calendar_delete(), _calendar_removed_apply() FROM PUBLIC;
-- (the triggers run as the DBA who changes the calendar)
GRANT EXECUTE ON FUNCTION _calendar_note_removed(date, integer), _calendar_note_row(jsonb) TO governance_admin;

-- (the shipped rows; no one else may insert builtin rows)
SELECT pg_catalog.set_config('governance.shipping_calendar', 'on', true);
INSERT INTO calendar_year (year, source, published, builtin) VALUES
    (2024, '国务院办公厅关于2024年部分节假日安排的通知(国办发明电〔2023〕7号)', '2023-10-25', true),
    (2025, '国务院办公厅关于2025年部分节假日安排的通知(国办发明电〔2024〕12号);依据2024年11月修订的《全国年节及纪念日放假办法》,春节、劳动节各增加1天', '2024-11-12', true),
    (2026, '国务院办公厅关于2026年部分节假日安排的通知(2025年11月4日,新华社受权发布)', '2025-11-04', true);

-- Every day of each "放假" range, weekend days included (the notice counts
-- them in "共N天"), and every weekend day it names with "上班".
INSERT INTO calendar (day, kind, name, builtin)
SELECT d::date, 'holiday', h.name, true
FROM (VALUES
    -- 2024 (国办发明电〔2023〕7号)
    ('2024-01-01', '2024-01-01', '元旦'),
    ('2024-02-10', '2024-02-17', '春节'),
    ('2024-04-04', '2024-04-06', '清明节'),
    ('2024-05-01', '2024-05-05', '劳动节'),
    ('2024-06-10', '2024-06-10', '端午节'),
    ('2024-09-15', '2024-09-17', '中秋节'),
    ('2024-10-01', '2024-10-07', '国庆节'),
    -- 2025 (国办发明电〔2024〕12号)
    ('2025-01-01', '2025-01-01', '元旦'),
    ('2025-01-28', '2025-02-04', '春节'),
    ('2025-04-04', '2025-04-06', '清明节'),
    ('2025-05-01', '2025-05-05', '劳动节'),
    ('2025-05-31', '2025-06-02', '端午节'),
    ('2025-10-01', '2025-10-08', '国庆节、中秋节'),
    -- 2026 (notice of 2025-11-04)
    ('2026-01-01', '2026-01-03', '元旦'),
    ('2026-02-15', '2026-02-23', '春节'),
    ('2026-04-04', '2026-04-06', '清明节'),
    ('2026-05-01', '2026-05-05', '劳动节'),
    ('2026-06-19', '2026-06-21', '端午节'),
    ('2026-09-25', '2026-09-27', '中秋节'),
    ('2026-10-01', '2026-10-07', '国庆节')
) h(first_day, last_day, name),
LATERAL (SELECT h.first_day::date OPERATOR(pg_catalog.+) i
         FROM pg_catalog.generate_series(0, h.last_day::date OPERATOR(pg_catalog.-) h.first_day::date) i) g(d)
UNION ALL
SELECT w.day::date, 'workday', w.name, true
FROM (VALUES
    ('2024-02-04', '春节调休上班'), ('2024-02-18', '春节调休上班'),
    ('2024-04-07', '清明节调休上班'),
    ('2024-04-28', '劳动节调休上班'), ('2024-05-11', '劳动节调休上班'),
    ('2024-09-14', '中秋节调休上班'),
    ('2024-09-29', '国庆节调休上班'), ('2024-10-12', '国庆节调休上班'),
    ('2025-01-26', '春节调休上班'), ('2025-02-08', '春节调休上班'),
    ('2025-04-27', '劳动节调休上班'),
    ('2025-09-28', '国庆节、中秋节调休上班'), ('2025-10-11', '国庆节、中秋节调休上班'),
    ('2026-01-04', '元旦调休上班'),
    ('2026-02-14', '春节调休上班'), ('2026-02-28', '春节调休上班'),
    ('2026-05-09', '劳动节调休上班'),
    ('2026-09-20', '国庆节调休上班'), ('2026-10-10', '国庆节调休上班')
) w(day, name);

SELECT pg_catalog.set_config('governance.shipping_calendar', 'off', true);

-- Is d a working day?  NULL when d's year is not in calendar_year.
CREATE FUNCTION is_working_day(d date) RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM @extschema@.calendar_year y
                         WHERE y.year OPERATOR(pg_catalog.=) EXTRACT(year FROM d))
            THEN NULL
        ELSE COALESCE((SELECT c.kind OPERATOR(pg_catalog.=) 'workday' FROM @extschema@.calendar c
                       WHERE c.day OPERATOR(pg_catalog.=) d),
                      EXTRACT(isodow FROM d) OPERATOR(pg_catalog.<) 6)
    END
$fn$;
COMMENT ON FUNCTION is_working_day(date) IS 'is the day a working day on the PRC calendar (NULL outside the years governance.calendar covers)';

-- The n-th working day after d: the first working day after d counts as 1,
-- and n = 0 gives d itself.  Every day counted must lie in a covered year.
CREATE FUNCTION add_working_days(d date, n integer) RETURNS date
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    -- no stretch of the calendar without a working day is near this long
    span    integer := 2 * n + 31;
    result  date;
    missing integer;
    covered text;
BEGIN
    IF n < 0 THEN
        RAISE EXCEPTION 'cannot count % working days', n
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'add_working_days counts forward from d: the first working day after d is 1.',
                  HINT = 'Pass n >= 0.';
    END IF;
    IF n > 100000 THEN
        RAISE EXCEPTION 'cannot count % working days', n
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'That is centuries beyond any year the PRC calendar can know.',
                  HINT = 'Pass n <= 100000.';
    END IF;
    IF n = 0 THEN
        RETURN d;
    END IF;
    IF NOT isfinite(d) OR d > date '9999-12-31' THEN
        RAISE EXCEPTION 'cannot count working days from %', d
            USING ERRCODE = 'datetime_field_overflow',
                  DETAIL = 'The PRC calendar covers only the years listed in governance.calendar_year.',
                  HINT = 'Pass a date inside those years.';
    END IF;
    SELECT g.day INTO result
    FROM (SELECT d + i AS day FROM generate_series(1, span) i) g
    LEFT JOIN @extschema@.calendar c ON c.day = g.day
    WHERE CASE c.kind WHEN 'holiday' THEN false WHEN 'workday' THEN true
                      ELSE EXTRACT(isodow FROM g.day) < 6 END
    ORDER BY g.day
    OFFSET n - 1 LIMIT 1;
    -- every year the count passed through must be known, or the answer is a guess
    SELECT min(y) INTO missing
    FROM generate_series(EXTRACT(year FROM d + 1)::integer,
                         EXTRACT(year FROM COALESCE(result, d + span))::integer) y
    WHERE NOT EXISTS (SELECT 1 FROM @extschema@.calendar_year cy WHERE cy.year = y);
    IF missing IS NOT NULL THEN
        SELECT string_agg(cy.year::text, ', ' ORDER BY cy.year) INTO covered
        FROM @extschema@.calendar_year cy;
        RAISE EXCEPTION 'the PRC calendar has no holidays for %', missing
            USING ERRCODE = 'datetime_field_overflow',
                  DETAIL = format('Counting %s working days after %s reaches %s; the calendar covers %s.',
                                  n, d, missing, COALESCE(covered, 'no year')),
                  HINT = format('Add the State Council''s holidays and adjusted working days of %s to governance.calendar and the year, with its notice, to governance.calendar_year.',
                                missing);
    END IF;
    IF result IS NULL THEN
        RAISE EXCEPTION 'no % working days within % days after %', n, span, d
            USING ERRCODE = 'data_exception',
                  DETAIL = 'governance.calendar marks almost every day of that stretch as a holiday.',
                  HINT = 'Check the rows of governance.calendar for those dates.';
    END IF;
    RETURN result;
END
$fn$;
COMMENT ON FUNCTION add_working_days(date, integer) IS 'the n-th working day after d on the PRC calendar (the first working day after d is 1; n = 0 gives d); an error outside the covered years';
