-- +goose Up
-- create "api_keys" table
CREATE TABLE `api_keys` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `environment` text NOT NULL, `name` text NOT NULL, `key_hash` blob NOT NULL, `previous_key_hash` blob NULL, `previous_expires_at` datetime NULL, `prefix` text NOT NULL, `last4` text NOT NULL, `scopes` json NOT NULL, `last_used_at` datetime NULL, `expires_at` datetime NULL, `revoked_at` datetime NULL, `tenant_id` integer NOT NULL, `owner_id` integer NOT NULL, CONSTRAINT `api_keys_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `api_keys_users_owner` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- create index "api_keys_key_hash_key" to table: "api_keys"
CREATE UNIQUE INDEX `api_keys_key_hash_key` ON `api_keys` (`key_hash`);
-- create index "api_keys_previous_key_hash_key" to table: "api_keys"
CREATE UNIQUE INDEX `api_keys_previous_key_hash_key` ON `api_keys` (`previous_key_hash`);
-- create index "apikey_tenant_id_environment_created_at" to table: "api_keys"
CREATE INDEX `apikey_tenant_id_environment_created_at` ON `api_keys` (`tenant_id`, `environment`, `created_at`);
-- create "audit_events" table
CREATE TABLE `audit_events` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `environment` text NOT NULL, `created_at` datetime NOT NULL, `action` text NOT NULL, `resource_type` text NOT NULL, `resource_id` integer NOT NULL, `actor_id` integer NULL, `on_behalf_of_id` integer NULL, `api_key_id` integer NULL, `request_id` text NOT NULL DEFAULT (''), `ip` text NOT NULL DEFAULT (''), `user_agent` text NOT NULL DEFAULT (''), `changes` json NULL, `tenant_id` integer NOT NULL, CONSTRAINT `audit_events_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- set sequence for "audit_events" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("audit_events", 4294967296);
-- create index "auditevent_tenant_id_environment_created_at" to table: "audit_events"
CREATE INDEX `auditevent_tenant_id_environment_created_at` ON `audit_events` (`tenant_id`, `environment`, `created_at`);
-- create index "auditevent_tenant_id_environmen_ee0ea418aa54b3f08c677019ff3e9e14" to table: "audit_events"
CREATE INDEX `auditevent_tenant_id_environmen_ee0ea418aa54b3f08c677019ff3e9e14` ON `audit_events` (`tenant_id`, `environment`, `resource_type`, `resource_id`, `created_at`);
-- create "duplicate_candidates" table
CREATE TABLE `duplicate_candidates` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `environment` text NOT NULL, `created_at` datetime NOT NULL, `matched_field` text NOT NULL, `tenant_id` integer NOT NULL, `lead_id` integer NOT NULL, `duplicate_id` integer NOT NULL, CONSTRAINT `duplicate_candidates_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `duplicate_candidates_leads_lead` FOREIGN KEY (`lead_id`) REFERENCES `leads` (`id`) ON DELETE NO ACTION, CONSTRAINT `duplicate_candidates_leads_duplicate` FOREIGN KEY (`duplicate_id`) REFERENCES `leads` (`id`) ON DELETE NO ACTION);
-- set sequence for "duplicate_candidates" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("duplicate_candidates", 25769803776);
-- create index "duplicatecandidate_lead_id_duplicate_id_matched_field" to table: "duplicate_candidates"
CREATE UNIQUE INDEX `duplicatecandidate_lead_id_duplicate_id_matched_field` ON `duplicate_candidates` (`lead_id`, `duplicate_id`, `matched_field`);
-- create index "duplicatecandidate_duplicate_id" to table: "duplicate_candidates"
CREATE INDEX `duplicatecandidate_duplicate_id` ON `duplicate_candidates` (`duplicate_id`);
-- create "idempotency_keys" table
CREATE TABLE `idempotency_keys` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `environment` text NOT NULL, `key` text NOT NULL, `request_hash` blob NOT NULL, `status` integer NOT NULL DEFAULT (0), `response_headers` blob NULL, `response_body` blob NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `tenant_id` integer NOT NULL, CONSTRAINT `idempotency_keys_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- set sequence for "idempotency_keys" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("idempotency_keys", 30064771072);
-- create index "idempotencykey_tenant_id_environment_key" to table: "idempotency_keys"
CREATE UNIQUE INDEX `idempotencykey_tenant_id_environment_key` ON `idempotency_keys` (`tenant_id`, `environment`, `key`);
-- create index "idempotencykey_expires_at" to table: "idempotency_keys"
CREATE INDEX `idempotencykey_expires_at` ON `idempotency_keys` (`expires_at`);
-- create "leads" table
CREATE TABLE `leads` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `environment` text NOT NULL, `email` text NOT NULL, `email_normalized` text NOT NULL, `first_name` text NOT NULL, `last_name` text NOT NULL, `phone` text NULL, `phone_normalized` text NULL, `source` text NULL, `status` text NOT NULL DEFAULT ('new'), `score` integer NOT NULL DEFAULT (0), `custom_fields` json NOT NULL, `version` integer NOT NULL DEFAULT (1), `archived_at` datetime NULL, `tenant_id` integer NOT NULL, `assigned_to` integer NULL, `merged_into` integer NULL, CONSTRAINT `leads_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `leads_users_assignee` FOREIGN KEY (`assigned_to`) REFERENCES `users` (`id`) ON DELETE SET NULL, CONSTRAINT `leads_leads_merged_leads` FOREIGN KEY (`merged_into`) REFERENCES `leads` (`id`) ON DELETE SET NULL);
-- set sequence for "leads" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("leads", 8589934592);
-- create index "lead_tenant_id_environment_created_at_id" to table: "leads"
CREATE INDEX `lead_tenant_id_environment_created_at_id` ON `leads` (`tenant_id`, `environment`, `created_at`, `id`);
-- create index "lead_tenant_id_environment_updated_at_id" to table: "leads"
CREATE INDEX `lead_tenant_id_environment_updated_at_id` ON `leads` (`tenant_id`, `environment`, `updated_at`, `id`);
-- create index "lead_tenant_id_environment_score_id" to table: "leads"
CREATE INDEX `lead_tenant_id_environment_score_id` ON `leads` (`tenant_id`, `environment`, `score`, `id`);
-- create index "lead_tenant_id_environment_email_normalized" to table: "leads"
CREATE INDEX `lead_tenant_id_environment_email_normalized` ON `leads` (`tenant_id`, `environment`, `email_normalized`);
-- create index "lead_tenant_id_environment_phone_normalized" to table: "leads"
CREATE INDEX `lead_tenant_id_environment_phone_normalized` ON `leads` (`tenant_id`, `environment`, `phone_normalized`);
-- create index "lead_assigned_to" to table: "leads"
CREATE INDEX `lead_assigned_to` ON `leads` (`assigned_to`);
-- create "refresh_tokens" table
CREATE TABLE `refresh_tokens` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `family` text NOT NULL, `token_hash` blob NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `revoked_at` datetime NULL, `tenant_id` integer NOT NULL, `user_id` integer NOT NULL, CONSTRAINT `refresh_tokens_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION, CONSTRAINT `refresh_tokens_users_user` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION);
-- set sequence for "refresh_tokens" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("refresh_tokens", 34359738368);
-- create index "refresh_tokens_token_hash_key" to table: "refresh_tokens"
CREATE UNIQUE INDEX `refresh_tokens_token_hash_key` ON `refresh_tokens` (`token_hash`);
-- create index "refreshtoken_family" to table: "refresh_tokens"
CREATE INDEX `refreshtoken_family` ON `refresh_tokens` (`family`);
-- create "settings" table
CREATE TABLE `settings` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `key` text NOT NULL, `value` text NOT NULL);
-- set sequence for "settings" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("settings", 12884901888);
-- create index "settings_key_key" to table: "settings"
CREATE UNIQUE INDEX `settings_key_key` ON `settings` (`key`);
-- create "tenants" table
CREATE TABLE `tenants` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `slug` text NOT NULL, `name` text NOT NULL, `plan` text NOT NULL DEFAULT ('free'), `rate_limit_per_minute` integer NULL, `rate_limit_burst` integer NULL, `default_region` text NOT NULL DEFAULT ('US'));
-- set sequence for "tenants" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("tenants", 17179869184);
-- create index "tenants_slug_key" to table: "tenants"
CREATE UNIQUE INDEX `tenants_slug_key` ON `tenants` (`slug`);
-- create "users" table
CREATE TABLE `users` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `email` text NOT NULL, `first_name` text NOT NULL DEFAULT (''), `last_name` text NOT NULL DEFAULT (''), `role` text NOT NULL DEFAULT ('member'), `token_version` integer NOT NULL DEFAULT (1), `password_hash` text NOT NULL, `tenant_id` integer NOT NULL, CONSTRAINT `users_tenants_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants` (`id`) ON DELETE NO ACTION);
-- set sequence for "users" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("users", 21474836480);
-- create index "user_email" to table: "users"
CREATE UNIQUE INDEX `user_email` ON `users` (`email`);
-- create index "user_tenant_id_created_at" to table: "users"
CREATE INDEX `user_tenant_id_created_at` ON `users` (`tenant_id`, `created_at`);

-- +goose Down
-- reverse: create index "user_tenant_id_created_at" to table: "users"
DROP INDEX `user_tenant_id_created_at`;
-- reverse: create index "user_email" to table: "users"
DROP INDEX `user_email`;
-- reverse: set sequence for "users" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "users";
-- reverse: create "users" table
DROP TABLE `users`;
-- reverse: create index "tenants_slug_key" to table: "tenants"
DROP INDEX `tenants_slug_key`;
-- reverse: set sequence for "tenants" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "tenants";
-- reverse: create "tenants" table
DROP TABLE `tenants`;
-- reverse: create index "settings_key_key" to table: "settings"
DROP INDEX `settings_key_key`;
-- reverse: set sequence for "settings" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "settings";
-- reverse: create "settings" table
DROP TABLE `settings`;
-- reverse: create index "refreshtoken_family" to table: "refresh_tokens"
DROP INDEX `refreshtoken_family`;
-- reverse: create index "refresh_tokens_token_hash_key" to table: "refresh_tokens"
DROP INDEX `refresh_tokens_token_hash_key`;
-- reverse: set sequence for "refresh_tokens" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "refresh_tokens";
-- reverse: create "refresh_tokens" table
DROP TABLE `refresh_tokens`;
-- reverse: create index "lead_assigned_to" to table: "leads"
DROP INDEX `lead_assigned_to`;
-- reverse: create index "lead_tenant_id_environment_phone_normalized" to table: "leads"
DROP INDEX `lead_tenant_id_environment_phone_normalized`;
-- reverse: create index "lead_tenant_id_environment_email_normalized" to table: "leads"
DROP INDEX `lead_tenant_id_environment_email_normalized`;
-- reverse: create index "lead_tenant_id_environment_score_id" to table: "leads"
DROP INDEX `lead_tenant_id_environment_score_id`;
-- reverse: create index "lead_tenant_id_environment_updated_at_id" to table: "leads"
DROP INDEX `lead_tenant_id_environment_updated_at_id`;
-- reverse: create index "lead_tenant_id_environment_created_at_id" to table: "leads"
DROP INDEX `lead_tenant_id_environment_created_at_id`;
-- reverse: set sequence for "leads" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "leads";
-- reverse: create "leads" table
DROP TABLE `leads`;
-- reverse: create index "idempotencykey_expires_at" to table: "idempotency_keys"
DROP INDEX `idempotencykey_expires_at`;
-- reverse: create index "idempotencykey_tenant_id_environment_key" to table: "idempotency_keys"
DROP INDEX `idempotencykey_tenant_id_environment_key`;
-- reverse: set sequence for "idempotency_keys" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "idempotency_keys";
-- reverse: create "idempotency_keys" table
DROP TABLE `idempotency_keys`;
-- reverse: create index "duplicatecandidate_duplicate_id" to table: "duplicate_candidates"
DROP INDEX `duplicatecandidate_duplicate_id`;
-- reverse: create index "duplicatecandidate_lead_id_duplicate_id_matched_field" to table: "duplicate_candidates"
DROP INDEX `duplicatecandidate_lead_id_duplicate_id_matched_field`;
-- reverse: set sequence for "duplicate_candidates" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "duplicate_candidates";
-- reverse: create "duplicate_candidates" table
DROP TABLE `duplicate_candidates`;
-- reverse: create index "auditevent_tenant_id_environmen_ee0ea418aa54b3f08c677019ff3e9e14" to table: "audit_events"
DROP INDEX `auditevent_tenant_id_environmen_ee0ea418aa54b3f08c677019ff3e9e14`;
-- reverse: create index "auditevent_tenant_id_environment_created_at" to table: "audit_events"
DROP INDEX `auditevent_tenant_id_environment_created_at`;
-- reverse: set sequence for "audit_events" table
UPDATE sqlite_sequence SET seq = 0 WHERE name = "audit_events";
-- reverse: create "audit_events" table
DROP TABLE `audit_events`;
-- reverse: create index "apikey_tenant_id_environment_created_at" to table: "api_keys"
DROP INDEX `apikey_tenant_id_environment_created_at`;
-- reverse: create index "api_keys_previous_key_hash_key" to table: "api_keys"
DROP INDEX `api_keys_previous_key_hash_key`;
-- reverse: create index "api_keys_key_hash_key" to table: "api_keys"
DROP INDEX `api_keys_key_hash_key`;
-- reverse: create "api_keys" table
DROP TABLE `api_keys`;
