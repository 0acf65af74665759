-- Mapping changes take effect only on resync (seed rule, SPEC §5): incremental runs read the
-- owning resource's snapshot. A snapshot of zero rows is still a snapshot, hence the header table.
CREATE TABLE edfi_sync.mapping_snapshot_taken (
    end_year integer     NOT NULL,
    resource text        NOT NULL,
    run_id   text,
    taken_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (end_year, resource)
);

CREATE TABLE edfi_sync.mapping_snapshot (
    end_year   integer NOT NULL,
    resource   text    NOT NULL,
    field      text    NOT NULL,
    sis_value  text    NOT NULL,
    namespace  text,
    code_value text,
    PRIMARY KEY (end_year, resource, field, sis_value),
    FOREIGN KEY (end_year, resource) REFERENCES edfi_sync.mapping_snapshot_taken (end_year, resource) ON DELETE CASCADE
);
