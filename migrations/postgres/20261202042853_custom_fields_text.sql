-- +goose Up
-- modify "leads" table
ALTER TABLE "leads" ALTER COLUMN "custom_fields" TYPE text;

-- +goose Down
-- reverse: modify "leads" table
ALTER TABLE "leads" ALTER COLUMN "custom_fields" TYPE jsonb USING "custom_fields"::jsonb;
