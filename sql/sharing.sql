-- Sharing decisions (check_share, share), consent, and bad input: every
-- seed policy, each kind of rule (processor, third party, SDK, affiliate,
-- government with and without a legal basis, cross-border with and without
-- consent, prohibitions, anonymized data), categories through the taxonomy
-- and implies:, deny by default.
SET search_path = public;
\set VERBOSITY default
SELECT governance.set_database_region('CN');
SELECT count(*) FROM (
    SELECT governance.load_bundled_policy(p)
    FROM unnest(ARRAY['21vianet-o365-2016', '21vianet-online-2018', '21vianet-online-2020',
                      'ctyun-huiju-2024', 'jinpai-mail']) p) s;

-- decide(...) shows a decision in one line: allowed or refused, and the rule
CREATE FUNCTION decide(recipient text, cats governance.category[], purpose text,
                       subject text DEFAULT NULL, dest governance.region DEFAULT NULL,
                       basis text DEFAULT NULL, pol text DEFAULT NULL) RETURNS text
LANGUAGE sql AS $$
    SELECT CASE WHEN c.allowed THEN 'allowed ' ELSE 'refused ' END || COALESCE(c.rule_id, '-')
    FROM governance.check_share(recipient, cats, purpose, subject, dest, basis, pol) c
$$;

-- ============================================================ ctyun: the SDK table
-- refused without the user's authorization; the reason quotes the clause
-- and says what would allow it
SELECT * FROM governance.check_share('百度SDK', '{device.camera}', 'real_name_verification',
                                     'user-1', policy => 'ctyun-huiju-2024');
SELECT governance.grant_consent('user-1', 'real_name_verification', '百度SDK') > 0 AS granted;
SELECT * FROM governance.check_share('百度SDK', '{device.camera,device.identifier}', 'real_name_verification',
                                     'user-1', policy => 'ctyun-huiju-2024');
-- the consent is the subject's: another subject is still refused
SELECT decide('百度SDK', '{device.camera}', 'real_name_verification', 'user-2', pol => 'ctyun-huiju-2024');
-- ... and the recipient's: the same consent does not cover another SDK
SELECT decide('腾讯QQ SDK', '{device.model}', 'login', 'user-1', pol => 'ctyun-huiju-2024');
-- ... and the purpose's
SELECT governance.grant_consent('user-1', 'login', '腾讯QQ SDK') > 0 AS granted;
SELECT decide('腾讯QQ SDK', '{device.model}', 'login', 'user-1', pol => 'ctyun-huiju-2024'),
       decide('腾讯QQ SDK', '{device.model}', 'account_linking', 'user-1', pol => 'ctyun-huiju-2024');
-- a named recipient receives only what the table declares for it
SELECT * FROM governance.check_share('百度SDK', '{personal.name}', 'real_name_verification',
                                     'user-1', policy => 'ctyun-huiju-2024');
SELECT decide('百度SDK', '{device.camera}', 'login', 'user-1', pol => 'ctyun-huiju-2024');
-- one uncovered category refuses the whole share, and the reason names it
SELECT reason FROM governance.check_share('百度SDK', '{device.camera,device.os}', 'real_name_verification',
                                          'user-1', policy => 'ctyun-huiju-2024');
-- 银联API: a consent to any recipient of its class covers it
SELECT decide('银联API', '{personal.identity.id_number,personal.name}', 'real_name_verification', 'user-3',
              pol => 'ctyun-huiju-2024');
SELECT governance.grant_consent('user-3', 'real_name_verification', 'class:third_party') > 0 AS granted;
SELECT decide('银联API', '{personal.identity.id_number,personal.name}', 'real_name_verification', 'user-3',
              pol => 'ctyun-huiju-2024');
-- a consent with no recipient covers every recipient
SELECT governance.grant_consent('user-4', 'qr_scanning') > 0 AS granted;
SELECT decide('zxing SDK', '{device.camera}', 'qr_scanning', 'user-4', pol => 'ctyun-huiju-2024');

-- ============================================================ ctyun: classes
-- government: only on a legal basis the rule names
SELECT decide('class:government', '{personal}', 'legal_compliance', pol => 'ctyun-huiju-2024'),
       decide('class:government', '{personal}', 'legal_compliance', basis => 'criminal_investigation',
              pol => 'ctyun-huiju-2024'),
       decide('class:government', '{personal}', 'legal_compliance', basis => 'news_reporting',
              pol => 'ctyun-huiju-2024');
-- third-party marketing needs the user's authorization
SELECT decide('class:third_party', '{personal.contact.phone}', 'marketing', 'user-5', pol => 'ctyun-huiju-2024');
SELECT governance.grant_consent('user-5', 'marketing', 'class:third_party') > 0 AS granted;
SELECT decide('class:third_party', '{personal.contact.phone}', 'marketing', 'user-5', pol => 'ctyun-huiju-2024');
-- processors: entrusted processing on contract necessity, without consent
SELECT decide('class:processor', '{personal.contact.email}', 'service_provision', basis => 'contract_necessity',
              pol => 'ctyun-huiju-2024');
-- affiliates: the joint service on contract necessity, otherwise consent
SELECT decide('class:affiliate', '{account.identifier}', 'service_provision', basis => 'contract_necessity',
              pol => 'ctyun-huiju-2024'),
       decide('class:affiliate', '{account.identifier}', 'survey', 'user-6', pol => 'ctyun-huiju-2024');
-- an explicit prohibition beats every permission, consent included
SELECT governance.grant_consent('user-5', 'marketing') > 0 AS granted;
SELECT * FROM governance.check_share('class:third_party', '{content.user_input}', 'marketing', 'user-5',
                                     policy => 'ctyun-huiju-2024');
SELECT decide('class:government', '{content.user_input}', 'content_compliance_review', basis => 'legal_obligation',
              pol => 'ctyun-huiju-2024');
-- cross-border: user information leaves mainland China only with consent
SELECT decide('class:processor', '{personal.contact.email}', 'service_provision', 'user-7', 'SG',
              'contract_necessity', 'ctyun-huiju-2024');
-- Hong Kong is outside mainland China
SELECT reason FROM governance.check_share('class:processor', '{device.identifier}', 'service_provision', 'user-7',
                                          'HK', 'contract_necessity', 'ctyun-huiju-2024');
-- anonymized data (ctyun 5.1.3): research on a public-interest basis
SELECT * FROM governance.check_share('class:research', '{anonymized.personal}', 'research',
                                     legal_basis => 'public_interest', policy => 'ctyun-huiju-2024');
SELECT decide('class:research', '{anonymized.personal}', 'marketing', basis => 'public_interest',
              pol => 'ctyun-huiju-2024');

-- ============================================================ jinpai-mail
-- anonymized data is not sharing of personal information: any recipient,
-- no consent, and it names no subject
SELECT * FROM governance.check_share('class:third_party', '{anonymized}', 'marketing', policy => 'jinpai-mail');
SELECT decide('class:public', '{anonymized}', 'research', dest => 'US', pol => 'jinpai-mail');
SELECT reason FROM governance.check_share('class:third_party', '{anonymized}', 'marketing', 'user-8',
                                          policy => 'jinpai-mail');
-- mixed with personal data, the share is personal and needs what that needs
SELECT decide('class:third_party', '{anonymized,personal.name}', 'marketing', 'user-8', pol => 'jinpai-mail');
-- named recipients: the SMS operator on contract necessity
SELECT decide('第三方短信运营商', '{personal.contact.phone,content.sms}', 'sms_delivery', basis => 'contract_necessity',
              pol => 'jinpai-mail'),
       decide('第三方短信运营商', '{personal.contact.email}', 'sms_delivery', basis => 'contract_necessity',
              pol => 'jinpai-mail');
-- cookies and read tracking may never serve marketing
SELECT decide('class:partner', '{tracking.cookie}', 'marketing', 'user-8', pol => 'jinpai-mail');
-- law enforcement with and without a legal basis
SELECT decide('class:government', '{content.email}', 'legal_compliance', basis => 'criminal_investigation',
              pol => 'jinpai-mail'),
       decide('class:government', '{content.email}', 'legal_compliance', pol => 'jinpai-mail');
-- minors' data: consent, or a legal obligation
SELECT decide('class:third_party', '{personal.minor}', 'service_provision', 'kid-1', pol => 'jinpai-mail'),
       decide('class:third_party', '{personal.minor}', 'service_provision', 'kid-1', basis => 'legal_obligation',
              pol => 'jinpai-mail');
-- cross-border with consent: both the sharing rule and the localization rule are met by it
SELECT decide('class:third_party', '{content.email}', 'service_provision', 'user-9', 'DE', pol => 'jinpai-mail');
SELECT governance.grant_consent('user-9', 'service_provision') > 0 AS granted;
SELECT decide('class:third_party', '{content.email}', 'service_provision', 'user-9', pol => 'jinpai-mail'),
       decide('class:third_party', '{content.email}', 'service_provision', 'user-9', 'DE', pol => 'jinpai-mail');
SELECT reason FROM governance.check_share('class:third_party', '{content.email}', 'service_provision', 'user-9',
                                          'DE', policy => 'jinpai-mail');
-- a merger's successor, without consent
SELECT decide('class:successor', '{personal.name}', 'merger_acquisition', pol => 'jinpai-mail');
-- deny by default: nothing permits a processor for surveys in jinpai
SELECT * FROM governance.check_share('class:research', '{personal.name}', 'survey', 'user-9',
                                     policy => 'jinpai-mail');

-- ============================================================ 21Vianet 2016
-- customer data never serves marketing
SELECT decide('class:third_party', '{customer_data}', 'marketing', 'cust-1', pol => '21vianet-o365-2016');
-- affiliates and processors on contract necessity
SELECT decide('class:affiliate', '{customer_data}', 'troubleshooting', basis => 'contract_necessity',
              pol => '21vianet-o365-2016'),
       decide('class:affiliate', '{customer_data}', 'troubleshooting', pol => '21vianet-o365-2016');
-- customer data abroad: troubleshooting on contract necessity only
SELECT decide('class:processor', '{customer_data}', 'troubleshooting', dest => 'US', basis => 'contract_necessity',
              pol => '21vianet-o365-2016'),
       decide('class:processor', '{customer_data}', 'service_provision', dest => 'US', basis => 'contract_necessity',
              pol => '21vianet-o365-2016');
-- disclosure to government: consent, or the legal obligation that waives it
SELECT decide('class:government', '{customer_data}', 'legal_compliance', 'cust-1', pol => '21vianet-o365-2016'),
       decide('class:government', '{customer_data}', 'legal_compliance', 'cust-1', basis => 'legal_obligation',
              pol => '21vianet-o365-2016');
-- third parties at the customer's direction
SELECT decide('class:partner', '{administrator_data}', 'service_provision', basis => 'customer_direction',
              pol => '21vianet-o365-2016');

-- ============================================================ 21Vianet 2018
-- administrator data implies personal: a rule on personal covers it
SELECT decide('class:public', '{administrator_data}', 'legal_compliance', basis => 'national_security',
              pol => '21vianet-online-2018'),
       decide('class:public', '{personal.contact.phone}', 'legal_compliance', basis => 'national_security',
              pol => '21vianet-online-2018');
-- the named overseas subcontractor, for fraud prevention, to the US: payment
-- data implies personal, which leaves China only with consent or on a legal
-- obligation (loc.personal)
SELECT reason FROM governance.check_share('境外分包商', '{payment_data}', 'fraud_prevention', 'admin-2', 'US',
                                          'contract_necessity', '21vianet-online-2018');
SELECT governance.grant_consent('admin-2', 'fraud_prevention', '境外分包商') > 0 AS granted;
SELECT reason FROM governance.check_share('境外分包商', '{payment_data}', 'fraud_prevention', 'admin-2', 'US',
                                          'contract_necessity', '21vianet-online-2018');
-- processors abroad: technical data on contract necessity, personal data with consent
SELECT decide('class:processor', '{log.service}', 'troubleshooting', dest => 'SG', basis => 'contract_necessity',
              pol => '21vianet-online-2018'),
       decide('class:processor', '{personal.name}', 'troubleshooting', 'admin-1', 'SG', pol => '21vianet-online-2018');
SELECT governance.grant_consent('admin-1', 'troubleshooting', 'class:processor') > 0 AS granted;
SELECT decide('class:processor', '{personal.name}', 'troubleshooting', 'admin-1', 'SG', pol => '21vianet-online-2018');
-- processors may not use it for anything but the service
SELECT decide('class:processor', '{log.service}', 'research', basis => 'contract_necessity',
              pol => '21vianet-online-2018');

-- ============================================================ 21Vianet 2020
-- customer data to an overseas processor needs the customer's authorization
SELECT decide('class:processor', '{customer_data}', 'troubleshooting', 'cust-2', 'US', pol => '21vianet-online-2020');
SELECT decide('class:processor', '{customer_data}', 'troubleshooting', 'cust-2', 'US', 'customer_direction',
              '21vianet-online-2020');
-- the competent authorities, named, on a legal obligation
SELECT decide('有关主管部门', '{log.security}', 'legal_compliance', basis => 'legal_obligation',
              pol => '21vianet-online-2020'),
       decide('有关主管部门', '{log.security}', 'legal_compliance', dest => 'HK', basis => 'legal_obligation',
              pol => '21vianet-online-2020');
-- a complainant receives contact details, not names
SELECT decide('class:complainant', '{personal.contact.email}', 'complaint_handling', pol => '21vianet-online-2020'),
       decide('class:complainant', '{personal.name}', 'complaint_handling', pol => '21vianet-online-2020');
-- the rule that only the destination kept out is named in the hint
SELECT reason FROM governance.check_share('class:affiliate', '{log.service}', 'security_monitoring',
                                          destination => 'JP', policy => '21vianet-online-2020');

-- ============================================================ consent
-- expiry is honoured to the second
SELECT governance.grant_consent('user-10', 'survey', 'class:partner',
                                clock_timestamp() + interval '1 second') > 0 AS granted;
SELECT decide('class:partner', '{personal.name}', 'survey', 'user-10', pol => 'ctyun-huiju-2024');
SELECT pg_sleep(1.2);
SELECT decide('class:partner', '{personal.name}', 'survey', 'user-10', pol => 'ctyun-huiju-2024');
-- withdrawal: refused again, and the record of the earlier consent stays
SELECT governance.withdraw_consent('user-1', 'real_name_verification', '百度SDK');
SELECT decide('百度SDK', '{device.camera}', 'real_name_verification', 'user-1', pol => 'ctyun-huiju-2024');
SELECT governance.withdraw_consent('user-1', 'real_name_verification', '百度SDK');
SELECT subject, purpose, recipient, withdrawn_at IS NOT NULL AS withdrawn, in_force
FROM governance.consents WHERE subject = 'user-1' ORDER BY consent_id;
-- granting again opens a new record
SELECT governance.grant_consent('user-1', 'real_name_verification', '百度SDK') > 0 AS granted;
SELECT decide('百度SDK', '{device.camera}', 'real_name_verification', 'user-1', pol => 'ctyun-huiju-2024');
SELECT count(*) AS records, count(*) FILTER (WHERE in_force) AS in_force
FROM governance.consents WHERE subject = 'user-1' AND purpose = 'real_name_verification';
-- withdrawing with no recipient withdraws every recipient's consent for the purpose
SELECT governance.withdraw_consent('user-5', 'marketing');
SELECT decide('class:third_party', '{personal.contact.phone}', 'marketing', 'user-5', pol => 'ctyun-huiju-2024');
-- withdrawing for one recipient while a consent for any recipient, or for
-- its class, still covers it is refused: sharing with it would go on
SELECT governance.grant_consent('user-11', 'real_name_verification') > 0 AS granted;
SELECT governance.grant_consent('user-11', 'real_name_verification', '百度SDK') > 0 AS granted;
SELECT governance.withdraw_consent('user-11', 'real_name_verification', '百度SDK');
SELECT decide('百度SDK', '{device.camera}', 'real_name_verification', 'user-11', pol => 'ctyun-huiju-2024');
SELECT governance.grant_consent('user-12', 'real_name_verification', 'class:third_party') > 0 AS granted;
SELECT governance.withdraw_consent('user-12', 'real_name_verification', '银联API');
SELECT governance.withdraw_consent('user-11', 'real_name_verification');
SELECT governance.withdraw_consent('user-12', 'real_name_verification', 'class:third_party');
SELECT decide('百度SDK', '{device.camera}', 'real_name_verification', 'user-11', pol => 'ctyun-huiju-2024'),
       decide('银联API', '{personal.name}', 'real_name_verification', 'user-12', pol => 'ctyun-huiju-2024');
-- bad consent input
SELECT governance.grant_consent(NULL, 'marketing');
SELECT governance.grant_consent('', 'marketing');
SELECT governance.grant_consent('user-1', 'marketting');
SELECT governance.grant_consent('user-1', 'marketing', 'class:thirdparty');
SELECT governance.grant_consent('user-1', 'marketing', 'Baidu SDK');
SELECT governance.grant_consent('user-1', 'marketing', NULL, now() - interval '1 day');
SELECT governance.withdraw_consent('user-1', 'no_such_purpose');

-- ============================================================ bad input
-- check_share answers with a reason; share raises
-- categories as an array of arrays are refused by both, with a hint
SELECT decide('class:processor', '{{personal.name},{device.model}}', 'troubleshooting', pol => 'jinpai-mail');
SELECT governance.share('class:processor', '{{personal.name},{device.model}}', 'troubleshooting',
                        policy => 'jinpai-mail');
SELECT decide('class:procesor', '{personal}', 'troubleshooting', pol => 'jinpai-mail');
SELECT reason FROM governance.check_share('class:procesor', '{personal}', 'troubleshooting', policy => 'jinpai-mail');
SELECT reason FROM governance.check_share('Baidu SDK', '{device.camera}', 'login', policy => 'ctyun-huiju-2024');
SELECT reason FROM governance.check_share('class:processor', '{personal}', 'troubleshootin', policy => 'jinpai-mail');
SELECT reason FROM governance.check_share('class:processor', '{personal}', 'troubleshooting',
                                          legal_basis => 'because', policy => 'jinpai-mail');
SELECT reason FROM governance.check_share('class:processor', '{}', 'troubleshooting', policy => 'jinpai-mail');
SELECT reason FROM governance.check_share('class:processor', NULL, 'troubleshooting', policy => 'jinpai-mail');
SELECT reason FROM governance.check_share('class:processor', '{personal,NULL}', 'troubleshooting', policy => 'jinpai-mail');
SELECT reason FROM governance.check_share('class:processor', '{personal.shoe_size}', 'troubleshooting', policy => 'jinpai-mail');
SELECT reason FROM governance.check_share('class:processor', '{personal}', 'troubleshooting', policy => 'no-such-policy');
SELECT reason FROM governance.check_share(NULL, '{personal}', 'troubleshooting', policy => 'jinpai-mail');
SELECT reason FROM governance.check_share('class:processor', '{personal}', NULL, policy => 'jinpai-mail');
-- no policy given and none bound to the database
SELECT reason FROM governance.check_share('class:processor', '{personal}', 'troubleshooting');
-- a destination that is not a region is refused by its type
SELECT governance.check_share('class:processor', '{personal}', 'troubleshooting', destination => 'Mars');
SELECT governance.check_share('class:processor', '{personal}', 'troubleshooting', destination => 'XX');
-- a category that is not one
SELECT governance.check_share('class:processor', '{Personal}', 'troubleshooting');
-- an empty or oversized subject
SELECT reason FROM governance.check_share('class:successor', '{personal.name}', 'merger_acquisition', '',
                                          policy => 'jinpai-mail');
SELECT reason FROM governance.check_share('class:successor', '{personal.name}', 'merger_acquisition',
                                          repeat('x', 1001), policy => 'jinpai-mail');
SELECT governance.grant_consent(repeat('x', 1001), 'survey');
-- a category defined by another policy only: this policy does not know it
SELECT reason FROM governance.check_share('class:processor', '{customer_data}', 'troubleshooting',
                                          legal_basis => 'contract_necessity', policy => 'ctyun-huiju-2024');
-- consent needed, and no subject to find it by
SELECT reason FROM governance.check_share('百度SDK', '{device.camera}', 'real_name_verification',
                                          policy => 'ctyun-huiju-2024');

-- ============================================================ share
-- allowed: an id; refused: GV004 with the reason and the clause in the
-- detail, and what would allow it in the hint
SELECT count(*) AS rows_before FROM governance.sharing_log \gset
SELECT governance.share('百度SDK', '{device.camera}', 'real_name_verification', 'user-1',
                        policy => 'ctyun-huiju-2024') AS share_id \gset
-- the row: the decision's policy and rules, the subject as its pseudonym,
-- the session user as the actor
SELECT id = :share_id AS is_returned_id, policy, recipient, categories, purpose, destination, legal_basis,
       rule_id, personal, actor = session_user AS actor_is_session_user,
       subject = governance.sharing_pseudonym('user-1') AS subject_is_pseudonym, subject <> 'user-1' AS not_plain
FROM governance.sharing_log ORDER BY id DESC LIMIT 1;
-- check_share logs nothing
SELECT count(*) FILTER (WHERE allowed) AS allowed
FROM generate_series(1, 20) g,
     LATERAL governance.check_share('百度SDK', '{device.camera}', 'real_name_verification', 'user-1',
                                    policy => 'ctyun-huiju-2024' || left(g::text, 0));
SELECT count(*) - :rows_before AS rows_added FROM governance.sharing_log;
-- a destination, a legal basis, several rules
SELECT governance.share('class:processor', '{personal.name,log.service}', 'troubleshooting', 'admin-1', 'SG',
                        'contract_necessity', '21vianet-online-2018') > 0 AS logged;
SELECT recipient, categories, destination, legal_basis, rule_id
FROM governance.sharing_log ORDER BY id DESC LIMIT 1;
-- anonymized data is logged as such, with no subject
SELECT governance.share('class:research', '{anonymized}', 'research', policy => 'jinpai-mail') > 0 AS logged;
SELECT personal, subject IS NULL AS no_subject, rule_id FROM governance.sharing_log ORDER BY id DESC LIMIT 1;
SELECT count(*) - :rows_before AS rows_added FROM governance.sharing_log;
SELECT governance.share('百度SDK', '{device.camera}', 'real_name_verification', 'user-2',
                        policy => 'ctyun-huiju-2024');
SELECT governance.share('class:third_party', '{content.user_input}', 'marketing', 'user-5',
                        policy => 'ctyun-huiju-2024');
-- bad input raises its own SQLSTATE
SELECT governance.share('class:procesor', '{personal}', 'troubleshooting', policy => 'jinpai-mail');
SELECT governance.share('class:processor', '{}', 'troubleshooting', policy => 'jinpai-mail');
SELECT governance.share('class:processor', '{personal}', 'troubleshooting', policy => 'no-such-policy');
-- nothing refused was logged
SELECT count(*) - :rows_before AS rows_added FROM governance.sharing_log;
-- GV000 catches the refusal in PL/pgSQL
DO $$
BEGIN
    PERFORM governance.share('class:government', '{content.email}', 'legal_compliance', policy => 'jinpai-mail');
EXCEPTION WHEN SQLSTATE 'GV000' THEN
    RAISE NOTICE 'caught %', SQLSTATE;
END $$;

-- ============================================================ the database's policy
SELECT governance.bind_database('jinpai-mail');
SELECT decide('class:successor', '{personal.name}', 'merger_acquisition');
SELECT governance.bind_database(NULL);

-- ============================================================ policy changes
-- a new version of a policy is used by the next decision
SELECT governance.load_policy($y$
policy: {name: test-share, version: "1", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], exclude: [HK, MO, TW, CN-HK, CN-MO, CN-TW], source: "s"}
rules:
  sharing:
    - {id: s.any, recipient_classes: [processor], consent: not_required, source: "委托处理"}
$y$);
SELECT decide('class:processor', '{personal.name}', 'troubleshooting', pol => 'test-share');
SELECT governance.load_policy($y$
policy: {name: test-share, version: "2", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], exclude: [HK, MO, TW, CN-HK, CN-MO, CN-TW], source: "s"}
rules:
  sharing:
    - {id: s.any, recipient_classes: [processor], consent: not_required, source: "委托处理"}
    - {id: s.no-logs, effect: deny, recipient_classes: [processor], categories: [log], source: "不共享日志"}
$y$);
SELECT decide('class:processor', '{personal.name}', 'troubleshooting', pol => 'test-share'),
       decide('class:processor', '{log.security}', 'troubleshooting', pol => 'test-share');
-- a load earlier in the same statement counts for the decisions after it in
-- that statement, and for the next statements (the model is not rebuilt
-- from the statement's older snapshot and kept)
BEGIN;
SELECT governance.load_policy($y$
policy: {name: test-share, version: "3", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], exclude: [HK, MO, TW, CN-HK, CN-MO, CN-TW], source: "s"}
rules:
  sharing:
    - {id: s.any, recipient_classes: [processor], consent: not_required, source: "委托处理"}
    - {id: s.no-logs, effect: deny, recipient_classes: [processor], categories: [log], source: "不共享日志"}
    - {id: s.no-device, effect: deny, recipient_classes: [processor], categories: [device], source: "不共享设备信息"}
$y$) AS loaded,
       (governance.check_share('class:processor', '{device.model}', 'troubleshooting',
                               policy => 'test-share')).rule_id AS same_statement;
SELECT rule_id AS next_statement
FROM governance.check_share('class:processor', '{device.model}', 'troubleshooting', policy => 'test-share');
COMMIT;
-- a rule without destinations holds anywhere, and no localization rule of
-- this policy keeps personal data home
SELECT decide('class:processor', '{personal.name}', 'troubleshooting', dest => 'CN-SH', pol => 'test-share'),
       decide('class:processor', '{personal.name}', 'troubleshooting', dest => 'TW', pol => 'test-share');
-- so does a prohibition
SELECT decide('class:processor', '{log.security}', 'troubleshooting', dest => 'TW', pol => 'test-share');
-- a prohibition that consent lifts is lifted by a recorded consent, not by
-- the caller passing legal_basis => 'consent'
SELECT governance.load_policy($y$
policy: {name: test-share-lift, version: "1", title: t, controller: c, home_jurisdiction: cn}
jurisdictions:
  - {name: cn, include: [CN], exclude: [HK, MO, TW, CN-HK, CN-MO, CN-TW], source: "s"}
rules:
  sharing:
    - {id: s.any, recipient_classes: [processor], consent: not_required, source: "委托处理"}
    - {id: s.no-logs, effect: deny, recipient_classes: [processor], categories: [log],
       legal_bases: [consent, legal_obligation], source: "不共享日志"}
$y$);
SELECT decide('class:processor', '{log.security}', 'troubleshooting', basis => 'consent', pol => 'test-share-lift'),
       decide('class:processor', '{log.security}', 'troubleshooting', 'lift-user', basis => 'consent',
              pol => 'test-share-lift'),
       decide('class:processor', '{log.security}', 'troubleshooting', basis => 'legal_obligation',
              pol => 'test-share-lift');
SELECT governance.grant_consent('lift-user', 'troubleshooting', 'class:processor') > 0 AS granted;
SELECT decide('class:processor', '{log.security}', 'troubleshooting', 'lift-user', basis => 'consent',
              pol => 'test-share-lift');
SELECT governance.drop_policy('test-share-lift');
SELECT governance.drop_policy('test-share');
-- dropped: decisions by it stop at once in this session
SELECT reason FROM governance.check_share('class:processor', '{personal.name}', 'troubleshooting',
                                          policy => 'test-share');

-- ============================================================ ordinary roles
-- the policies an application may name: the database's, or one bound to
-- a schema or table here (an admin may name any)
CREATE SCHEMA share_mail;
SECURITY LABEL FOR governance ON SCHEMA share_mail IS 'policy=jinpai-mail';
CREATE ROLE share_app LOGIN;
CREATE ROLE share_other LOGIN;
GRANT share_app TO share_other;
SET SESSION AUTHORIZATION share_app;
SELECT decide('class:successor', '{personal.name}', 'merger_acquisition', pol => 'jinpai-mail');
-- a policy that governs nothing here cannot be picked for being lenient
SELECT reason FROM governance.check_share('class:affiliate', '{customer_data}', 'troubleshooting',
                                          legal_basis => 'contract_necessity', policy => '21vianet-o365-2016');
SELECT governance.share('class:affiliate', '{customer_data}', 'troubleshooting',
                        legal_basis => 'contract_necessity', policy => '21vianet-o365-2016');
SELECT governance.grant_consent('app-user', 'survey') > 0 AS granted;
SELECT governance.share('class:successor', '{personal.name}', 'merger_acquisition', 'app-user',
                        policy => 'jinpai-mail') > 0 AS logged;
-- it reads the sharing events it logged, not the others'
SELECT count(*) AS own_events, count(*) FILTER (WHERE actor <> 'share_app') AS others FROM governance.sharing_log;
-- it cannot change the log, read the pseudonyms or verify
UPDATE governance.sharing_log SET purpose = 'marketing';
SELECT governance.sharing_pseudonym('app-user');
SELECT * FROM governance.verify_sharing_log();
-- it reads the consents it recorded, not the others'
SELECT count(*) AS own, count(*) FILTER (WHERE granted_by <> 'share_app') AS others
FROM governance.consents;
-- but it cannot write the consent table, nor call the internals
INSERT INTO governance.consent (subject, purpose) VALUES ('x', 'marketing');
UPDATE governance.consent SET withdrawn_at = NULL;
SELECT governance._check_consent_terms('marketing', NULL);
-- SET ROLE does not change who recorded a consent: the session user did
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION share_other;
SET ROLE share_app;
SELECT governance.grant_consent('other-user', 'survey') > 0 AS granted;
RESET ROLE;
SELECT subject, granted_by FROM governance.consents ORDER BY consent_id;
RESET SESSION AUTHORIZATION;
SELECT subject, granted_by FROM governance.consents WHERE subject IN ('app-user', 'other-user') ORDER BY consent_id;

-- every share of this test is in one unbroken chain
SELECT ok, checked = (SELECT count(*) FROM governance.sharing_log) AS all_checked, first_bad_id
FROM governance.verify_sharing_log();

DROP FUNCTION decide(text, governance.category[], text, text, governance.region, text, text);
DROP ROLE share_app;
DROP ROLE share_other;
DROP SCHEMA share_mail;
