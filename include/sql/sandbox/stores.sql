SELECT name FROM edfi_sandbox.store ORDER BY name
