-- +goose Up
-- create index "lead_merged_into" to table: "leads"
CREATE INDEX `lead_merged_into` ON `leads` (`merged_into`) WHERE merged_into IS NOT NULL;

-- +goose Down
-- reverse: create index "lead_merged_into" to table: "leads"
DROP INDEX `lead_merged_into`;
