TRUNCATE edfi_sandbox.record, edfi_sandbox.store
