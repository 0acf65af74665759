-- Which data `edfi-sync demo-data` wrote: it replaces only its own data, never a real SIS's.
CREATE TABLE edfi_sync.demo_data (
    generated_at timestamptz NOT NULL DEFAULT now(),
    seed         integer     NOT NULL,
    scale        numeric     NOT NULL,
    school_year  integer     NOT NULL
);
