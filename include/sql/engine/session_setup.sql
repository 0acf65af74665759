-- A plan per execution with the parameters' own values: the engine runs each statement a few
-- times per step on tables whose size swings by orders of magnitude within a run, and a generic
-- plan cached from an early execution (psycopg prepares after 5) can stay quadratic long after.
SET plan_cache_mode = force_custom_plan
