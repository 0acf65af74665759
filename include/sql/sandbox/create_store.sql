INSERT INTO edfi_sandbox.store (name) VALUES (%(store)s) ON CONFLICT (name) DO NOTHING
