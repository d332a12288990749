"""The load the benchmarks share: 5,000 accounts, 50,000 contacts and N responses (80 % relationship,
two years), written by generate_series in one statement each. Replace %(n)s by the number of responses."""

POPULATE = """
INSERT INTO accounts_team (name, timezone, work_days, work_start, work_end) VALUES
    ('North', 'UTC', '[]', 9, 17), ('South', 'UTC', '[]', 9, 17);
INSERT INTO surveys_program (stream, name, product_name, question, reason_prompt, sender_name, sender_email,
    subject, intro, quiet_period_days, reminder_enabled, reminder_after_days, link_expiry_days,
    audience_segments, audience_plan_tiers, audience_regions, audience_product_lines, audience_include_churned,
    decision_makers_only, is_active, cadence_months, send_day, send_hour, timezone, start_date, event_types,
    delay_minutes, cap_window_days, edit_window_hours, review_url, review_offer, referral_enabled,
    send_days, spread_days, window_start_hour, window_end_hour, widget_origins, widget_secret,
    created_at, updated_at)
SELECT s, 'Bench ' || s, 'Acme', 'q', 'r', 'Acme', 'a@example.com', 's', 'i', 30, false, 3, 30,
    '[]', '[]', '[]', '[]', false, false, true, 3, 1, 9, 'UTC', '2020-01-01', '[]', 60, 90, 24, '', 'everyone',
    true, '[]', 1, 0, 24, '', '', now(), now()
FROM unnest(ARRAY['relationship', 'transactional']) AS s;
INSERT INTO customers_account (name, external_id, segment, plan_tier, industry, region, product_line, status,
    properties, created_at, updated_at, team_id, is_test)
SELECT 'Account ' || i, 'B-' || i, (ARRAY['smb','mid_market','enterprise'])[1 + i % 3],
    (ARRAY['Starter','Growth','Scale','Enterprise'])[1 + i % 4], (ARRAY['Software','Retail','Health'])[1 + i % 3],
    (ARRAY['EMEA','NA','APAC','LATAM'])[1 + i % 4], 'Core', 'active', '{}', now(), now(), 1 + i % 2, false
FROM generate_series(1, 5000) AS i;
INSERT INTO customers_contact (account_id, email, name, title, locale, timezone, decision_maker, external_id,
    properties, bounce_reason, created_at, updated_at)
SELECT 1 + i % 5000, 'c' || i || '@bench.example.com', 'Contact ' || i, '', 'en', '', i % 5 = 0, '', '{}', '',
    now(), now()
FROM generate_series(1, 50000) AS i;
INSERT INTO surveys_invitation (program_id, stream, contact_id, account_id, properties, token_nonce, token_hash,
    send_at, expires_at, quiet_until, created_at, skipped_reason, responded_at, is_test, via)
SELECT CASE WHEN i % 5 = 0 THEN 2 ELSE 1 END, CASE WHEN i % 5 = 0 THEN 'transactional' ELSE 'relationship' END,
    1 + i % 50000, 1 + (i % 50000) % 5000, '{}', md5(i::text), md5('h' || i), now(), now(), now(), now(), '',
    now(), false, 'email'
FROM generate_series(1, %(n)s) AS i;
INSERT INTO surveys_response (invitation_id, program_id, stream, contact_id, account_id, score, category, reason,
    improvement, segment, plan_tier, industry, company_size, region, arr_tier, product_line, team_id, cohort,
    touchpoint, channel, agent, language, device_class, submitted_at, updated_at, routed_at, routed_category,
    is_test, source, source_id, follow_up, via, sentiment)
SELECT inv.id, inv.program_id, inv.stream, inv.contact_id, inv.account_id, sc.score,
    CASE WHEN sc.score >= 9 THEN 'promoter' WHEN sc.score >= 7 THEN 'passive' ELSE 'detractor' END,
    CASE WHEN inv.id % 3 = 0 THEN '' ELSE 'Because of reason ' || inv.id % 97 END, '',
    a.segment, a.plan_tier, a.industry, '', a.region, '', a.product_line, a.team_id,
    '2024-Q' || (1 + inv.id % 4), CASE WHEN inv.stream = 'transactional' THEN 'ticket' ELSE '' END,
    CASE WHEN inv.stream = 'transactional' THEN 'chat' ELSE '' END, '', 'en', 'desktop',
    now() - (inv.id % 730) * interval '1 day', now(), now(),
    CASE WHEN sc.score >= 9 THEN 'promoter' WHEN sc.score >= 7 THEN 'passive' ELSE 'detractor' END,
    false, '', '', '{}', 'email', ''
FROM surveys_invitation inv
JOIN customers_account a ON a.id = inv.account_id
CROSS JOIN LATERAL (SELECT (ARRAY[0,1,2,3,4,5,6,7,7,8,8,8,9,9,9,9,10,10,10,10])[1 + (inv.id * 7919) % 20] AS score) sc;
ANALYZE;
"""
