-- Retention waits for no lock for long and never runs a statement for long: it tries again tomorrow.
SET lock_timeout = '2s'; SET statement_timeout = '60s'
