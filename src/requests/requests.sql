-- src/requests/requests.sql — data-subject requests and their deadlines
-- (spec section 9): open_request takes the due date from the governing
-- policy's subject_rights rules, pause_request / resume_request stop the
-- clock while the subject's identity is verified, close_request records
-- the outcome (a refusal only on a ground the policy lists), and the view
-- governance.requests says which requests are overdue.
--
-- Deadlines count days of China Standard Time: a deadline of n days (or n
-- working days, on the PRC calendar of calendar.sql) ends with the n-th day
-- after the day the request was opened; a deadline in hours ends exactly
-- that long after.  The deciding rule, its deadline and the due date are
-- fixed when the request is opened; reloading the policy later does not
-- move them.

CREATE SEQUENCE request_id_seq;
CREATE TABLE request (
    request_id      bigint PRIMARY KEY DEFAULT pg_catalog.nextval('@extschema@.request_id_seq'),
    subject         text NOT NULL CHECK (subject OPERATOR(pg_catalog.<>) ''),
    kind            text NOT NULL,
    policy          text NOT NULL,
    rule_id         text NOT NULL,          -- the subject_rights rule that sets due_at
    deadline        text NOT NULL,          -- its ISO 8601 deadline, as it read when opened
    days            text NOT NULL CHECK (days IN ('calendar', 'working')),
    opened_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    opened_by       name NOT NULL DEFAULT pg_catalog.session_user(),
    due_at          timestamptz NOT NULL,   -- moved by every pause
    paused_at       timestamptz,            -- set while the clock is stopped
    paused_total    interval NOT NULL DEFAULT '0',
    closed_at       timestamptz,
    closed_by       name,
    outcome         text CHECK (outcome IN ('answered', 'declined', 'withdrawn')),
    ground          text,                   -- the exemption a refusal relies on
    CHECK ((closed_at IS NULL) OPERATOR(pg_catalog.=) (outcome IS NULL)),
    CHECK ((ground IS NOT NULL) OPERATOR(pg_catalog.=) (outcome IS NOT DISTINCT FROM 'declined')),
    CHECK (closed_at IS NULL OR paused_at IS NULL)
);
ALTER SEQUENCE request_id_seq OWNED BY request.request_id;
CREATE INDEX request_subject ON request (subject);
CREATE INDEX request_open ON request (due_at) WHERE closed_at IS NULL;
COMMENT ON TABLE request IS 'data-subject requests; written by governance.open_request, pause_request, resume_request and close_request';

-- every stop of a request's clock, with who stopped and restarted it
CREATE TABLE request_pause (
    request_id      bigint NOT NULL,
    started_at      timestamptz NOT NULL,
    started_by      name NOT NULL DEFAULT pg_catalog.session_user(),
    ended_at        timestamptz,
    ended_by        name,
    PRIMARY KEY (request_id, started_at)
);
COMMENT ON TABLE request_pause IS 'pauses of data-subject requests while the subject''s identity is verified';

SELECT pg_catalog.pg_extension_config_dump('request', '');
SELECT pg_catalog.pg_extension_config_dump('request_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('request_pause', '');
GRANT SELECT ON request, request_pause TO governance_reader;

-- The kinds a policy can name (policy_schema.c, vocab_request).
CREATE FUNCTION _request_kinds() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT ARRAY['access', 'correction', 'deletion', 'export', 'withdraw_consent',
                 'close_account', 'explanation', 'complaint', 'copy', 'restrict_processing']
$fn$;
REVOKE ALL ON FUNCTION _request_kinds() FROM PUBLIC;

-- The day of China Standard Time that an instant falls on, and the end of a day.
CREATE FUNCTION _prc_day(t timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT (t AT TIME ZONE 'Asia/Shanghai')::date
$fn$;
REVOKE ALL ON FUNCTION _prc_day(timestamptz) FROM PUBLIC;

CREATE FUNCTION _prc_end_of_day(d date) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT (d OPERATOR(pg_catalog.+) 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
$fn$;
REVOKE ALL ON FUNCTION _prc_end_of_day(date) FROM PUBLIC;

-- A working-day deadline is a whole number of days; anything else has no meaning.
CREATE FUNCTION _working_deadline_days(deadline text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    iv interval := deadline::interval;
BEGIN
    IF iv <> make_interval(days => extract(day FROM iv)::integer) OR extract(day FROM iv) < 0 THEN
        RAISE EXCEPTION 'working-day deadline % is not a number of days', deadline
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'A subject_rights rule with "days: working" counts whole working days.',
                  HINT = 'Write the rule''s deadline in days, such as P15D.';
    END IF;
    RETURN extract(day FROM iv)::integer;
END
$fn$;
REVOKE ALL ON FUNCTION _working_deadline_days(text) FROM PUBLIC;

-- When a request opened at `opened` is due under a deadline.
CREATE FUNCTION _request_due(opened timestamptz, deadline text, days text) RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    iv interval := deadline::interval;
BEGIN
    IF days = 'working' THEN
        RETURN @extschema@._prc_end_of_day(
            @extschema@.add_working_days(@extschema@._prc_day(opened),
                                         @extschema@._working_deadline_days(deadline)));
    END IF;
    IF iv <> date_trunc('day', iv) THEN
        RETURN opened + iv;                 -- a deadline in hours: to the minute
    END IF;
    RETURN @extschema@._prc_end_of_day((@extschema@._prc_day(opened) + iv)::date);
END
$fn$;
REVOKE ALL ON FUNCTION _request_due(timestamptz, text, text) FROM PUBLIC;

-- Where a due date moves to when the clock stood still from `paused` to
-- `resumed`: by the working days that began meanwhile (working-day
-- deadlines), by the days that began meanwhile (deadlines in days), or by
-- the exact time (deadlines in hours).
CREATE FUNCTION _request_shift_due(due timestamptz, deadline text, days text,
                                   paused timestamptz, resumed timestamptz) RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    iv interval := deadline::interval;
    from_day date := @extschema@._prc_day(paused);
    to_day date := @extschema@._prc_day(resumed);
    w integer;
    unknown date;
BEGIN
    IF resumed < paused THEN
        RAISE EXCEPTION 'a request cannot resume before it was paused'
            USING ERRCODE = 'data_exception';
    END IF;
    IF days = 'working' THEN
        SELECT count(*) FILTER (WHERE @extschema@.is_working_day(from_day + i)),
               min(from_day + i) FILTER (WHERE @extschema@.is_working_day(from_day + i) IS NULL)
          INTO w, unknown
        FROM generate_series(1, to_day - from_day) i;
        IF unknown IS NOT NULL THEN
            RAISE EXCEPTION 'the PRC calendar has no holidays for %', extract(year FROM unknown)
                USING ERRCODE = 'datetime_field_overflow',
                      DETAIL = format('The request was paused from %s to %s.', from_day, to_day),
                      HINT = 'Add that year''s holidays and adjusted working days to governance.calendar and the year to governance.calendar_year.';
        END IF;
        RETURN @extschema@._prc_end_of_day(
            @extschema@.add_working_days(@extschema@._prc_day(due - interval '1 microsecond'), w));
    END IF;
    IF iv <> date_trunc('day', iv) THEN
        RETURN due + (resumed - paused);
    END IF;
    RETURN @extschema@._prc_end_of_day(@extschema@._prc_day(due - interval '1 microsecond')
                                       + (to_day - from_day));
END
$fn$;
REVOKE ALL ON FUNCTION _request_shift_due(timestamptz, text, text, timestamptz, timestamptz) FROM PUBLIC;

-- The policy bound to the current database, from its label "policy=<name>".
CREATE FUNCTION _database_policy() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT regexp_replace(item, '^[ \t\n]*policy[ \t]*=[ \t]*|[ \t\n]+$', '', 'g')
    FROM regexp_split_to_table(@extschema@._database_label(), ';') item
    WHERE item ~ '^[ \t\n]*policy[ \t]*='
    LIMIT 1
$fn$;
REVOKE ALL ON FUNCTION _database_policy() FROM PUBLIC;

-- The deadline a request of `kind` opened at `opened` gets under a policy:
-- the policy promises an answer by the earliest of its deadlines for the
-- kind (ctyun: 3 working days normally, never more than 7 days; across
-- Spring Festival the 7 days end first).  No row: no deadline for the kind.
CREATE FUNCTION _request_deadline(policy text, kind text, opened timestamptz,
    OUT rule_id text, OUT deadline text, OUT days text, OUT due_at timestamptz)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT r.rule_id, r.parameters ->> 'deadline',
           COALESCE(r.parameters ->> 'days', 'calendar'),
           @extschema@._request_due(opened, r.parameters ->> 'deadline',
                                    COALESCE(r.parameters ->> 'days', 'calendar'))
    FROM @extschema@.rule r
    WHERE r.policy OPERATOR(pg_catalog.=) _request_deadline.policy
      AND r.kind OPERATOR(pg_catalog.=) 'subject_rights'
      AND r.parameters -> 'requests' ? _request_deadline.kind
    ORDER BY 4, r.ordinal
    LIMIT 1
$fn$;
REVOKE ALL ON FUNCTION _request_deadline(text, text, timestamptz) FROM PUBLIC;

CREATE FUNCTION open_request(subject text, kind text, policy text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    pol text := open_request.policy;
    opened timestamptz := now();
    best record;
    id bigint;
BEGIN
    IF subject IS NULL OR subject = '' THEN
        RAISE EXCEPTION 'a request needs a subject'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the identifier of the data subject who makes the request.';
    END IF;
    IF octet_length(subject) > 1000 THEN
        RAISE EXCEPTION 'a subject of % bytes', octet_length(subject)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the identifier of the data subject (1 to 1000 bytes).';
    END IF;
    IF kind IS NULL OR NOT kind = ANY (@extschema@._request_kinds()) THEN
        RAISE EXCEPTION 'unknown request kind "%"', kind
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'No request was opened.',
                  HINT = format('Request kinds: %s.', array_to_string(@extschema@._request_kinds(), ', '));
    END IF;
    IF pol IS NULL THEN
        pol := @extschema@._database_policy();
        IF pol IS NULL THEN
            RAISE EXCEPTION 'no policy is bound to database %', current_database()
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'The deadline of a request comes from the governing policy.',
                      HINT = 'Bind one with governance.bind_database(policy), or name the policy: governance.open_request(subject, kind, policy).';
        END IF;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.policy p WHERE p.name = pol) THEN
        RAISE EXCEPTION 'policy "%" does not exist', pol
            USING ERRCODE = 'undefined_object',
                  DETAIL = 'No request was opened.',
                  HINT = 'SELECT name FROM governance.policies lists the loaded policies.';
    END IF;
    SELECT * INTO best FROM @extschema@._request_deadline(pol, kind, opened);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'policy "%" sets no deadline for % requests', pol, kind
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = COALESCE(
                      (SELECT format('Its subject_rights rules cover: %s.',
                                     string_agg(DISTINCT k, ', ' ORDER BY k))
                       FROM @extschema@.rule r, jsonb_array_elements_text(r.parameters -> 'requests') k
                       WHERE r.policy = pol AND r.kind = 'subject_rights'),
                      'It has no subject_rights rules.'),
                  HINT = 'Open the request under the kind the policy names, or encode the deadline in the policy.';
    END IF;
    INSERT INTO @extschema@.request (subject, kind, policy, rule_id, deadline, days, opened_at, due_at)
    VALUES (open_request.subject, open_request.kind, pol, best.rule_id, best.deadline, best.days,
            opened, best.due_at)
    RETURNING request_id INTO id;
    RETURN id;
END
$fn$;
COMMENT ON FUNCTION open_request(text, text, text) IS 'open a data-subject request; its due date comes from the policy (NULL: the database''s) and its deadlines for the kind; returns its id';

-- The request, locked, or a clear error.
CREATE FUNCTION _request_for_update(id bigint) RETURNS @extschema@.request
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    r @extschema@.request;
BEGIN
    SELECT * INTO r FROM @extschema@.request q WHERE q.request_id = id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'request % does not exist', id
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT request_id, subject, kind FROM governance.requests lists the requests.';
    END IF;
    IF r.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'request % is closed', id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was closed (%s) at %s by %s.', r.outcome, r.closed_at, r.closed_by),
                  HINT = 'Open a new request with governance.open_request.';
    END IF;
    RETURN r;
END
$fn$;
REVOKE ALL ON FUNCTION _request_for_update(bigint) FROM PUBLIC;

CREATE FUNCTION pause_request(id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    r @extschema@.request := @extschema@._request_for_update(id);
BEGIN
    IF r.paused_at IS NOT NULL THEN
        RAISE EXCEPTION 'request % is already paused', id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('Its clock has been stopped since %s.', r.paused_at),
                  HINT = 'Resume it with governance.resume_request once the identity is verified.';
    END IF;
    IF now() >= r.due_at THEN
        RAISE EXCEPTION 'request % is overdue and cannot be paused', id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('It was due at %s; a pause cannot give back time that has run out.', r.due_at),
                  HINT = 'Answer the request and close it with governance.close_request.';
    END IF;
    UPDATE @extschema@.request q SET paused_at = now() WHERE q.request_id = id;
    INSERT INTO @extschema@.request_pause (request_id, started_at) VALUES (id, now());
END
$fn$;
COMMENT ON FUNCTION pause_request(bigint) IS 'stop the clock of a request while the subject''s identity is verified';

CREATE FUNCTION resume_request(id bigint) RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    r @extschema@.request := @extschema@._request_for_update(id);
    new_due timestamptz;
BEGIN
    IF r.paused_at IS NULL THEN
        RAISE EXCEPTION 'request % is not paused', id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Its clock is running.',
                  HINT = 'Pause it with governance.pause_request first.';
    END IF;
    new_due := @extschema@._request_shift_due(r.due_at, r.deadline, r.days, r.paused_at, now());
    UPDATE @extschema@.request q
       SET due_at = new_due, paused_at = NULL, paused_total = q.paused_total + (now() - r.paused_at)
     WHERE q.request_id = id;
    UPDATE @extschema@.request_pause p SET ended_at = now(), ended_by = session_user
     WHERE p.request_id = id AND p.ended_at IS NULL;
    RETURN new_due;
END
$fn$;
COMMENT ON FUNCTION resume_request(bigint) IS 'restart the clock of a paused request; the due date moves by the time it stood still; returns the new due time';

CREATE FUNCTION close_request(id bigint, outcome text DEFAULT 'answered', ground text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    r @extschema@.request := @extschema@._request_for_update(id);
    grounds text[];
BEGIN
    IF outcome IS NULL OR outcome NOT IN ('answered', 'declined', 'withdrawn') THEN
        RAISE EXCEPTION 'unknown outcome "%"', outcome
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Request %s was left open.', id),
                  HINT = 'Outcomes: answered, declined (with the ground the policy allows), withdrawn (by the subject).';
    END IF;
    -- the grounds on which the policy lets the controller not answer this kind
    SELECT array_agg(DISTINCT e ->> 'ground' ORDER BY e ->> 'ground') INTO grounds
    FROM @extschema@.rule x, jsonb_array_elements(COALESCE(x.parameters -> 'exemptions', '[]')) e
    WHERE x.policy = r.policy AND x.kind = 'subject_rights' AND x.parameters -> 'requests' ? r.kind;
    IF outcome = 'declined' THEN
        IF grounds IS NULL THEN
            RAISE EXCEPTION 'policy "%" gives no ground to decline % requests', r.policy, r.kind
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('Request %s was left open.', id),
                      HINT = 'Answer the request, or encode the policy''s exemptions (subject_rights "exemptions:").';
        END IF;
        IF ground IS NULL THEN
            RAISE EXCEPTION 'declining a request needs the ground it relies on'
                USING ERRCODE = 'null_value_not_allowed',
                      DETAIL = format('Request %s was left open.', id),
                      HINT = format('Grounds policy "%s" lists for %s requests: %s.', r.policy, r.kind,
                                    array_to_string(grounds, ', '));
        END IF;
        IF NOT ground = ANY (grounds) THEN
            RAISE EXCEPTION 'policy "%" does not let % requests be declined on ground "%"', r.policy, r.kind, ground
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('Request %s was left open.', id),
                      HINT = format('Grounds the policy lists: %s.', array_to_string(grounds, ', '));
        END IF;
    ELSIF ground IS NOT NULL THEN
        RAISE EXCEPTION 'a ground is given only when a request is declined'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Request %s was left open.', id),
                  HINT = 'Pass outcome ''declined'' with the ground, or no ground.';
    END IF;
    UPDATE @extschema@.request_pause p SET ended_at = now(), ended_by = session_user
     WHERE p.request_id = id AND p.ended_at IS NULL;
    UPDATE @extschema@.request q
       SET closed_at = now(), closed_by = session_user, outcome = close_request.outcome,
           ground = close_request.ground,
           paused_total = q.paused_total + COALESCE(now() - q.paused_at, '0'), paused_at = NULL
     WHERE q.request_id = id;
END
$fn$;
COMMENT ON FUNCTION close_request(bigint, text, text) IS 'close a request: answered, declined on a ground the policy lists, or withdrawn by the subject';

CREATE VIEW requests AS
    SELECT q.request_id, q.subject, q.kind, q.policy, q.rule_id, q.deadline, q.days,
           q.opened_at, q.opened_by,
           ((q.due_at OPERATOR(pg_catalog.-) interval '1 microsecond')
            AT TIME ZONE 'Asia/Shanghai')::date AS due_date,
           q.due_at, q.paused_at, q.paused_total, q.closed_at, q.closed_by, q.outcome, q.ground,
           CASE WHEN q.closed_at IS NOT NULL THEN 'closed'
                WHEN q.paused_at IS NOT NULL THEN 'paused'
                ELSE 'open' END AS status,
           (q.closed_at IS NULL
            AND COALESCE(q.paused_at, pg_catalog.now()) OPERATOR(pg_catalog.>=) q.due_at) AS overdue,
           (q.closed_at OPERATOR(pg_catalog.>) q.due_at) AS answered_late
    FROM @extschema@.request q;
COMMENT ON VIEW requests IS 'data-subject requests: due dates (China Standard Time days), pauses, outcomes; overdue = open and past due';
GRANT SELECT ON requests TO governance_reader;

REVOKE ALL ON FUNCTION open_request(text, text, text), pause_request(bigint),
    resume_request(bigint), close_request(bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION open_request(text, text, text), pause_request(bigint),
    resume_request(bigint), close_request(bigint, text, text) TO governance_admin;
