\set r random(1, 2000000000)
\startpipeline
BEGIN;
INSERT INTO "leads" ("created_at", "updated_at", "environment", "email", "email_normalized", "first_name", "last_name", "phone", "phone_normalized", "source", "status", "score", "custom_fields", "version", "tenant_id") VALUES (now(), now(), 'live', 'pgb' || :r || '@example.com', 'pgb' || :r || '@example.com', 'Bench', 'Lead', '+1 415 5550134', '+14155550134', 'api', 'new', 42, '{"company":"Acme Corp","seats":25}', 1, :tenant) RETURNING "id";
\endpipeline
\startpipeline
INSERT INTO "audit_events" ("environment", "created_at", "action", "resource_type", "resource_id", "api_key_id", "request_id", "ip", "user_agent", "changes", "tenant_id") VALUES ('live', now(), 'lead.created', 'lead', :r, 1, 'req_ABCDEFGHIJKLMNOPQRSTUVWXYZ', '127.0.0.1', 'wrk', '{"email": {"new": "bench.check-dn9qw1xxzqdp@example.com", "old": null}, "phone": {"new": "+1 415 5550134", "old": null}, "score": {"new": 42, "old": null}, "source": {"new": "api", "old": null}, "status": {"new": "new", "old": null}, "last_name": {"new": "Lead", "old": null}, "tenant_id": {"new": 17179869184, "old": null}, "first_name": {"new": "Bench", "old": null}, "environment": {"new": "live", "old": null}, "custom_fields": {"new": {"seats": 25, "company": "Acme Corp"}, "old": null}}', :tenant) RETURNING "id";
INSERT INTO river_job (args, kind, max_attempts, metadata, priority, queue, scheduled_at, state, tags) VALUES ('{"lead_id": 8589954599, "tenant_id": 17179869184, "environment": "live"}', 'lead.duplicate_check', 12, '{}', 1, 'default', now(), 'available', '{}') RETURNING id;
COMMIT;
\endpipeline
